import { ConfigError, type TokenBrokerConfig } from '../sw/config';
import { checkWorkerConfig, OptionError } from '../server/entries/index';

// Server settings, read once from the environment. Every knob is documented in
// the README's "Settings" table; names here are the camelCase of the variables.
export interface Settings {
  port: number;
  host: string;
  /** Access token lifetime, seconds. */
  accessTokenTtl: number;
  /** Idle lifetime of a refresh token: unused this long, the family ends. Seconds. */
  refreshTokenTtl: number;
  /** Absolute lifetime of a refresh family (one login), seconds. */
  refreshAbsoluteTtl: number;
  /** Window after a rotation in which the immediate predecessor gets the same successor. Seconds. */
  rotationGraceSeconds: number;
  /** Added to the server's clock when stamping iat/exp, to simulate a wrong server clock. Seconds. */
  clockOffsetSeconds: number;
  /** Where refresh families live: one SQLite file, or a Redis shared by several instances. */
  store: 'sqlite' | 'redis';
  /** SQLite file, or ':memory:'. */
  databasePath: string;
  /** Redis connection URL (STORE=redis). */
  redisUrl: string;
  /** Prefix of every Redis key, so several deployments (or tests) can share one Redis. */
  redisPrefix: string;
  /**
   * base64url secret (32+ bytes) that derives a refresh token's successor.
   * Empty: random per process, which is only right for a single instance.
   */
  refreshSecret: string;
  /** Private ES256 JWK (JSON) that signs access tokens. Empty: a key generated per process. */
  signingKey: string;
  /** Seconds between sweeps of expired and revoked families; 0 turns sweeping off. */
  sweepIntervalSeconds: number;
  /**
   * `Secure` on the refresh cookie, with the `__Host-Http-` name and Path=/. 'auto' leaves them off only
   * when the browser's Origin is plain http to a loopback host; refused with NODE_ENV=production.
   */
  cookieSecure: boolean | 'auto';
  /** Response header for sliding renewal of access tokens; empty disables it. */
  renewHeader: string;
  /** Directory of static files served at /. */
  publicDir: string;
  /** Requests per minute per IP on login and refresh. */
  authRateLimit: number;
  /** Login attempts per minute per username, whatever the IP. */
  loginAccountRateLimit: number;
  /** Pino log level, or 'silent'. */
  logLevel: string;
  /** Sent on every response, the worker script included; empty sends none. */
  contentSecurityPolicy: string;
  /**
   * DPoP (RFC 9449). 'optional': a login or refresh with a valid proof gets
   * tokens bound to its key, which then only work with proofs of that key;
   * one without a proof gets bearer tokens. 'required': bearer is refused.
   * 'off': proofs are ignored and DPoP-scheme requests refused.
   */
  dpop: 'off' | 'optional' | 'required';
  /** Demand a server-issued nonce in every DPoP proof (sent in DPoP-Nonce headers). */
  dpopNonce: boolean;
  /**
   * A nonce is issued for a slot of this many seconds and accepted in the
   * next one too: at most twice this long. That bounds how long a proof that
   * script signed in advance stays usable after the script has stopped.
   */
  dpopNonceSeconds: number;
  /**
   * The configuration served with /sw.js and /sw-dpop.js (`self.tokenBrokerConfig`).
   * It is the server's to choose: the scripts refuse a query on their URL.
   */
  workerConfig: TokenBrokerConfig;
}

/** The demo has no inline script or style, so the policy can be strict; on the
 * worker script, connect-src 'self' keeps the worker's own requests on this origin. */
export const STRICT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export const DEFAULT_SETTINGS: Settings = {
  port: 8080,
  host: 'localhost',
  accessTokenTtl: 300,
  refreshTokenTtl: 14 * 24 * 3600,
  refreshAbsoluteTtl: 30 * 24 * 3600,
  rotationGraceSeconds: 10,
  clockOffsetSeconds: 0,
  store: 'sqlite',
  databasePath: 'data/broker.sqlite',
  redisUrl: 'redis://127.0.0.1:6379',
  redisPrefix: 'token-broker:',
  refreshSecret: '',
  signingKey: '',
  sweepIntervalSeconds: 600,
  cookieSecure: 'auto',
  renewHeader: '',
  publicDir: 'public',
  authRateLimit: 600,
  loginAccountRateLimit: 10,
  logLevel: 'info',
  contentSecurityPolicy: STRICT_CSP,
  // The reference setup fails closed: a worker that was downgraded to bearer
  // tokens (or script without the key) gets nothing, and every proof carries a
  // nonce, which bounds how long a proof signed in advance stays usable.
  dpop: 'required',
  dpopNonce: true,
  dpopNonceSeconds: 30,
  workerConfig: { exposeClaims: ['sub', 'name', 'role'] },
};

/** A setting of the reference server, named by its environment variable. */
export class SettingsError extends OptionError {
  get variable(): string {
    return this.option;
  }
}

/** The variable behind each option the app passes to `createTokenBroker` under another name. */
const VARIABLE_OF_OPTION: Record<string, string> = {
  refreshIdleTtl: 'REFRESH_TOKEN_TTL',
  'limits.perIp': 'AUTH_RATE_LIMIT',
  'limits.perAccount': 'LOGIN_ACCOUNT_RATE_LIMIT',
};

/**
 * The library's refusal of an option, named by the variable it came from
 * (`refreshSecret` is REFRESH_SECRET): the library checks what it is given,
 * and the app does not repeat the checks.
 */
export function settingOfOption(err: OptionError): SettingsError {
  const variable = VARIABLE_OF_OPTION[err.option] ?? (/[a-z]/.test(err.option) ? err.option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase() : err.option);
  return new SettingsError(variable, err.message.slice(err.option.length + 2));
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new SettingsError(name, `expected an integer >= ${min}, got "${raw}"`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new SettingsError(name, `expected true or false, got "${raw}"`);
}

function json(env: Env, name: string, fallback: TokenBrokerConfig): TokenBrokerConfig {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw) as TokenBrokerConfig;
  } catch {
    throw new SettingsError(name, `expected a JSON object, got "${raw}"`);
  }
}

function choice<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new SettingsError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}


/**
 * Settings that are each valid but wrong together. Several instances behind a
 * shared Redis must derive the same successor for a token, or a duplicate
 * refresh that lands on another instance within the grace window would look
 * like reuse and revoke the family: so Redis requires an explicit secret.
 */
export function checkSettings(settings: Settings): Settings {
  if (settings.refreshSecret === '' && settings.store === 'redis') {
    throw new SettingsError('REFRESH_SECRET', 'required with STORE=redis: every instance must derive the same successor tokens');
  }
  if (settings.dpopNonce && settings.dpop === 'off') throw new SettingsError('DPOP_NONCE', 'needs DPOP=optional or DPOP=required');
  try {
    checkWorkerConfig(settings.workerConfig);
  } catch (err) {
    if (err instanceof ConfigError) throw new SettingsError('WORKER_CONFIG', err.message);
    throw err;
  }
  return settings;
}

export function parseSettings(env: Env = process.env): Settings {
  const d = DEFAULT_SETTINGS;
  if (env.NODE_ENV === 'production' && (env.COOKIE_SECURE ?? 'auto') === 'auto') {
    // The library refuses it too (as cookieSecure); named here by the variable the operator sets.
    throw new SettingsError('COOKIE_SECURE', 'auto (the default) is refused with NODE_ENV=production: set true behind https, or false only for a plain-http intranet');
  }
  return checkSettings({
    port: integer(env, 'PORT', d.port, 0),
    host: env.HOST || d.host,
    accessTokenTtl: integer(env, 'ACCESS_TOKEN_TTL', d.accessTokenTtl, 1),
    refreshTokenTtl: integer(env, 'REFRESH_TOKEN_TTL', d.refreshTokenTtl, 1),
    refreshAbsoluteTtl: integer(env, 'REFRESH_ABSOLUTE_TTL', d.refreshAbsoluteTtl, 1),
    rotationGraceSeconds: integer(env, 'ROTATION_GRACE_SECONDS', d.rotationGraceSeconds, 0),
    clockOffsetSeconds: integer(env, 'CLOCK_OFFSET_SECONDS', d.clockOffsetSeconds, -10 * 365 * 86400),
    store: choice(env, 'STORE', d.store, ['sqlite', 'redis'] as const),
    databasePath: env.DATABASE_PATH || d.databasePath,
    redisUrl: env.REDIS_URL || d.redisUrl,
    redisPrefix: env.REDIS_PREFIX || d.redisPrefix,
    refreshSecret: env.REFRESH_SECRET ?? d.refreshSecret,
    signingKey: env.SIGNING_KEY ?? d.signingKey,
    sweepIntervalSeconds: integer(env, 'SWEEP_INTERVAL_SECONDS', d.sweepIntervalSeconds, 0),
    cookieSecure: env.COOKIE_SECURE === 'auto' ? 'auto' : env.COOKIE_SECURE ? boolean(env, 'COOKIE_SECURE', true) : d.cookieSecure,
    renewHeader: (env.RENEW_HEADER ?? d.renewHeader).toLowerCase(),
    publicDir: env.PUBLIC_DIR || d.publicDir,
    authRateLimit: integer(env, 'AUTH_RATE_LIMIT', d.authRateLimit, 1),
    loginAccountRateLimit: integer(env, 'LOGIN_ACCOUNT_RATE_LIMIT', d.loginAccountRateLimit, 1),
    logLevel: env.LOG_LEVEL || d.logLevel,
    contentSecurityPolicy: env.CONTENT_SECURITY_POLICY ?? d.contentSecurityPolicy,
    dpop: choice(env, 'DPOP', d.dpop, ['off', 'optional', 'required'] as const),
    dpopNonce: boolean(env, 'DPOP_NONCE', d.dpopNonce),
    dpopNonceSeconds: integer(env, 'DPOP_NONCE_SECONDS', d.dpopNonceSeconds, 1),
    workerConfig: json(env, 'WORKER_CONFIG', d.workerConfig),
  });
}
