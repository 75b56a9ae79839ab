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
  /** SQLite file, or ':memory:'. */
  databasePath: string;
  /** Mark the refresh cookie Secure (required by the __Secure- prefix). Chromium accepts it on http://localhost. */
  cookieSecure: boolean;
  /** Response header for sliding renewal of access tokens; empty disables it. */
  renewHeader: string;
  /** Directory of static files served at /. */
  publicDir: string;
  /** Requests per minute per IP on login and refresh. */
  authRateLimit: number;
  /** Pino log level, or 'silent'. */
  logLevel: string;
  /** Sent on every response, the worker script included; empty sends none. */
  contentSecurityPolicy: string;
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
  databasePath: 'data/broker.sqlite',
  cookieSecure: true,
  renewHeader: '',
  publicDir: 'public',
  authRateLimit: 600,
  logLevel: 'info',
  contentSecurityPolicy: STRICT_CSP,
};

export class SettingsError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
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

export function parseSettings(env: Env = process.env): Settings {
  const d = DEFAULT_SETTINGS;
  return {
    port: integer(env, 'PORT', d.port, 0),
    host: env.HOST || d.host,
    accessTokenTtl: integer(env, 'ACCESS_TOKEN_TTL', d.accessTokenTtl, 1),
    refreshTokenTtl: integer(env, 'REFRESH_TOKEN_TTL', d.refreshTokenTtl, 1),
    refreshAbsoluteTtl: integer(env, 'REFRESH_ABSOLUTE_TTL', d.refreshAbsoluteTtl, 1),
    rotationGraceSeconds: integer(env, 'ROTATION_GRACE_SECONDS', d.rotationGraceSeconds, 0),
    clockOffsetSeconds: integer(env, 'CLOCK_OFFSET_SECONDS', d.clockOffsetSeconds, -10 * 365 * 86400),
    databasePath: env.DATABASE_PATH || d.databasePath,
    cookieSecure: boolean(env, 'COOKIE_SECURE', d.cookieSecure),
    renewHeader: (env.RENEW_HEADER ?? d.renewHeader).toLowerCase(),
    publicDir: env.PUBLIC_DIR || d.publicDir,
    authRateLimit: integer(env, 'AUTH_RATE_LIMIT', d.authRateLimit, 1),
    logLevel: env.LOG_LEVEL || d.logLevel,
    contentSecurityPolicy: env.CONTENT_SECURITY_POLICY ?? d.contentSecurityPolicy,
  };
}
