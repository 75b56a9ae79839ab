// The server half of the token broker, framework-neutral: the token endpoints
// (login, refresh, logout), the access-token check of API routes with sliding
// renewal, and the JWKS. The app supplies how credentials are checked and
// where refresh families live; the adapters (Fastify, Express) only translate
// requests and responses.
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { AccessTokens, type AccessClaims, type Account } from '../tokens/access-tokens';
import { BackingUnavailable, guardBacking, unavailableResponse } from './backing';
import { DpopVerifier, type ProofBinding } from '../dpop/verifier';
import { DpopNonces } from '../dpop/nonces';
import { KeyRing } from '../tokens/keys';
import { RefreshTokens } from '../tokens/refresh-tokens';
import { memoryJtiStore, type JtiStore } from '../store/jti';
import type { RefreshStore } from '../store/types';
import { cookieScope, LEGACY_COOKIE, PLAIN_COOKIE_NAME, refreshCookieName, SECURE_COOKIE_NAME, secureCookieFor, type CookieSecurity } from './cookie-security';
import { cookieCount, cookieValues } from './cookie-tossing';
import { csrfViolation } from './csrf';
import { meetsRequirement, type StepUpRequirement } from '../step-up/requirement';
import { stepUpRequired } from '../step-up/challenge';
import { dpopBadRequest, dpopUnauthorized, missingTokenChallenge, type DpopMode } from '../dpop/challenges';
import { OptionError } from './errors';
import { errorResponse, header, jsonResponse, rawPath, type BrokerHttpRequest, type BrokerHttpResponse } from './http';
import { consume, memoryRateLimits, type RateLimitBacking } from './rate-limits';
import { SecurityEvents, type SecurityEventOptions } from '../events/broker-events';
import { decideLifetimes, type LifetimePolicy } from '../lifetime/lifetime-policy';
import { UPSTREAM_ENDED, UPSTREAM_UNREADABLE, type UpstreamSession } from './upstream-session';
import type { UpstreamRecords } from '../tokens/refresh-tokens';

export type { Account, AccessClaims };

/** What happened, for the app's metrics and logs. Never carries a token, cookie or password. */
export type BrokerEvent =
  | 'login'
  | 'login_failed'
  | 'password_check'
  | 'refresh'
  | 'refresh_rejected'
  /**
   * A refresh with no refresh cookie at all: a first visit, or a browser whose cookie is gone.
   * Answered 401 like `refresh_rejected`, but not a failure: metrics should not count new visitors.
   */
  | 'no_session'
  | 'logout_revoked'
  /**
   * The worker ended a session itself (logout body `{"reason": ...}`), instead of
   * `logout_revoked`: a refresh answered for another account than the one it held
   * (a planted refresh cookie, whose family this logout revokes), or its DPoP key
   * had been replaced. Detail: `revoked`, and the `sub` of the revoked family.
   */
  | 'account_changed'
  | 'key_replaced'
  | 'api_ok'
  | 'api_unauthorized'
  /** RFC 9470: a valid token whose sign-in is too old or too weak for the route. */
  | 'step_up_required'
  /** A backing (store, replay cache, rate limits) failed; the request was answered 503. Detail: `backing`, `message`. */
  | 'backing_unavailable';

export interface TokenBrokerServerOptions {
  /** Checks what a login posted; the account, or null for wrong credentials. Called only within the login limits. */
  verifyCredentials(credentials: Record<string, unknown>): Promise<Account | null> | Account | null;
  /** Where refresh families live (`openSqliteStore`, `openRedisStore`, `memoryStore`, or your own). */
  store: RefreshStore;
  /** The DPoP replay cache; in memory by default (one process). */
  jti?: JtiStore;
  /** Where the login and refresh limits count; in memory by default (one process). */
  rateLimits?: RateLimitBacking;
  /** A private EC P-256 JWK (JSON) that signs access tokens, shared by every instance; by default a key per process. */
  signingKey?: string;
  /** base64url, 32+ bytes: derives a refresh token's successor. Required when instances share a store. */
  refreshSecret?: string;
  issuer?: string;
  audience?: string;
  /** The token endpoints' paths (defaults /auth/login, /auth/refresh, /auth/logout): what the worker's `endpoints` say. */
  paths?: { login?: string; refresh?: string; logout?: string };
  /** Seconds. */
  accessTokenTtl?: number;
  /** Seconds a refresh token may go unused before its family ends. */
  refreshIdleTtl?: number;
  /** Seconds a login lasts at most, however it is used. */
  refreshAbsoluteTtl?: number;
  /** Seconds in which the immediate predecessor of a refresh token gets the same successor. */
  rotationGraceSeconds?: number;
  /**
   * Instant revocation (default true): once a family ends (logout, `revokeUser`,
   * `revokeSession`, reuse detected, the worker's `account_changed` / `key_replaced`
   * logouts), its access tokens (tied by their `sid`) are refused by
   * `authenticate()` on every instance sharing the store, not only when they
   * expire. The store keeps the list for the access-token lifetime plus
   * 60 s of clock tolerance. `false`: access tokens stay valid until they expire.
   */
  revocationCheck?: boolean;
  /**
   * `Secure` on the refresh cookie, which then is `__Host-Http-broker_rt` with
   * `Path=/` (no sibling subdomain can set it); without, `broker_rt` scoped to
   * the auth routes. `true` behind https; `false` only for a plain-http
   * intranet. The default, `'auto'`, leaves `Secure` off only when the
   * request's `Origin` is plain http to a loopback host and so is the origin
   * the adapter derived (local development, where Safari refuses `Secure`
   * cookies). Refused with `NODE_ENV=production`: say which one you run.
   */
  cookieSecure?: CookieSecurity;
  /**
   * DPoP (RFC 9449): `'off'` (the default, for the bearer `sw.js`), `'optional'`
   * (bind the tokens of workers that sign proofs, take Bearer from the rest) or
   * `'required'` (for `sw-dpop.js` with `dpop: true`). Off unless asked for, so a
   * bearer setup sends no `DPoP-Nonce` header and no DPoP challenge.
   */
  dpop?: DpopMode;
  /** Demand the server's nonce in every proof (default true when DPoP is on). */
  dpopNonce?: boolean;
  /** A nonce is accepted for at most twice this (default 30). */
  dpopNonceSeconds?: number;
  /** Response header of API routes that carries a renewed access token (sliding renewal); off when absent. */
  renewHeader?: string | null;
  /** Per minute: requests per IP to login and refresh, and login attempts per account from anywhere. */
  limits?: { perIp?: number; perAccount?: number };
  /** What the per-account limit counts by; by default the credentials' username, email or login. */
  accountKey?(credentials: Record<string, unknown>): string | null;
  /**
   * The server's clock, ms since the epoch (default `Date.now`): access tokens' iat and exp,
   * refresh families, signing keys, DPoP nonces and proof windows are all judged by it.
   */
  now?: () => number;
  /** Counters for metrics (a name and loose details); the security events are `securityEvents`. */
  onEvent?(event: BrokerEvent, detail?: Record<string, unknown>): void;
  /**
   * The security event stream (login, login failures, new device, reuse, revoked family, foreign DPoP key)
   * and the policy that may act on it; see docs/security-events.md.
   */
  securityEvents?: SecurityEventOptions;
  /**
   * Decides each family's idle and absolute lifetimes at login (e.g. a known device 7 days, a new one
   * 2 hours), synchronously, within `refreshIdleTtl`/`refreshAbsoluteTtl`; without it every family gets those.
   */
  lifetimePolicy?: LifetimePolicy;
}

/** How an account signed in (RFC 9470 claims): seconds since the epoch, the class, the methods. */
export interface SignInFacts {
  authTime: number;
  acr: string;
  amr: string[];
}

export type StartedSession =
  | { ok: true; familyId: string; cookies: string[] }
  | { ok: false; response: BrokerHttpResponse };

export type AccessResult =
  /** `headers`: to set on the route's response (the DPoP nonce, a renewed token). */
  | { ok: true; claims: AccessClaims; headers: Record<string, string> }
  | { ok: false; response: BrokerHttpResponse };

export interface TokenBrokerServer {
  readonly paths: Readonly<{ login: string; refresh: string; logout: string }>;
  /** The refresh cookie's name over https (`__Host-Http-broker_rt`); see `cookieNameFor`. */
  readonly cookieName: string;
  /** The refresh cookie's name for a request: `broker_rt` in local development (with `cookieSecure: 'auto'`: an http `Origin` to a loopback host). */
  cookieNameFor(request: Pick<BrokerHttpRequest, 'origin' | 'headers'>): string;
  login(request: BrokerHttpRequest): Promise<BrokerHttpResponse>;
  refresh(request: BrokerHttpRequest): Promise<BrokerHttpResponse>;
  logout(request: BrokerHttpRequest): Promise<BrokerHttpResponse>;
  /**
   * The access-token check of an API route: bearer or DPoP, as the `dpop` option allows.
   * With `maxAge`/`acrValues` (RFC 9470) a valid token whose sign-in is too old or of another
   * class is refused with 401 `insufficient_user_authentication` and the challenge naming them.
   */
  authenticate(request: BrokerHttpRequest, requirement?: StepUpRequirement): Promise<AccessResult>;
  /** The public keys that verify access tokens, for `/.well-known/jwks.json`. */
  jwks(): { keys: JWK[] };
  /**
   * Starts a session for an account that signed in elsewhere (the OpenID Connect callback of
   * `token-broker/server/oidc`): a refresh family and the cookie to set, as a login would, or the
   * refusal (the security policy's). `signIn` are the sign-in's facts (RFC 9470), kept with the family.
   */
  startSession(request: BrokerHttpRequest, account: Account, signIn: SignInFacts, jkt?: string | null, upstream?: string): Promise<StartedSession>;
  /**
   * The DPoP key of a request that starts a sign-in elsewhere (the worker's POST to the OIDC start
   * route): its thumbprint, null without a proof where the `dpop` option allows none, or the
   * refusal (a bad proof, the nonce challenge, no proof under `'required'`). Passed to
   * `startSession` as `jkt`, it binds the new family to the worker's key.
   */
  proofKey(request: BrokerHttpRequest): Promise<{ ok: true; jkt: string | null } | { ok: false; response: BrokerHttpResponse }>;
  /**
   * Token-handler mode: the store's sealed upstream records (null when the store keeps none),
   * and the hook the refresh and logout endpoints then consult. Attached once, by
   * `createOidcTokenHandler`.
   */
  readonly upstreamRecords: UpstreamRecords | null;
  attachUpstream(session: UpstreamSession): void;
  /**
   * Sign out everywhere: revokes every refresh family of `sub`, and (with
   * `revocationCheck`) their access tokens at once; resolves how many were live.
   */
  revokeUser(sub: string): Promise<number>;
  /**
   * The admin call: ends one sign-in session, named by its family id (the access
   * tokens' `sid` claim): its refresh token is refused and (with `revocationCheck`)
   * its access tokens too, at once. Resolves true when this call ended it, false
   * for an unknown or already ended one.
   */
  revokeSession(sid: string): Promise<boolean>;
  /** Headers for every response of the app when nonces are announced (`DPoP-Nonce`). */
  announce(): Record<string, string>;
  /**
   * The password asked for again inside a session (adding its first passkey): `credentials` as a login
   * takes them, checked by `verifyCredentials` under the login's rate limits and failure counting
   * (`login_failures`). Null when they are the signed-in account `sub`'s, else the refusal (403
   * `invalid_credentials`, 429, 400).
   */
  reauthenticate(request: BrokerHttpRequest, credentials: unknown, sub: string): Promise<BrokerHttpResponse | null>;
  /**
   * Raises `passkey_added` or `passkey_removed` for the session `sid` of `sub` (the request's device, `jkt` its
   * DPoP key); resolves true when the security policy answered `'revoke'` and the session was ended.
   */
  passkeyChanged(change: 'added' | 'removed', sub: string, sid: string, credential: string, request: BrokerHttpRequest, jkt: string | null): Promise<boolean>;
  // Described by their public members: each entry point's declarations carry a copy of these
  // types, and copies of classes with private members would not be assignable to each other.
  readonly keys: Pick<KeyRing, 'current' | 'rotate' | 'jwks'>;
  readonly accessTokens: Pick<AccessTokens, 'ttl' | 'issue' | 'verify'>;
  readonly refreshTokens: Pick<RefreshTokens, 'issue' | 'rotate' | 'revoke' | 'revokeFamily' | 'revokeUser' | 'liveUntil' | 'accessRevoked' | 'upstreamRecords'>;
  /** Closes the store and the replay cache. */
  close(): Promise<void>;
}

/**
 * Seconds a revocation is kept beyond the access-token lifetime: instances
 * whose clocks lag accept a token for that much longer than its `exp` says.
 */
export const REVOCATION_CLOCK_TOLERANCE_SECONDS = 60;

const DEFAULT_PATHS = { login: '/auth/login', refresh: '/auth/refresh', logout: '/auth/logout' };
const AUTHORIZATION = /^(Bearer|DPoP) ([A-Za-z0-9_.-]+)$/;
const MAX_CREDENTIAL_FIELDS = 32;
/** Refresh cookies a logout acts on: the browser's own and a tossed one or two; a forged header with hundreds is cut here. */
const MAX_LOGOUT_COOKIES = 8;
/** The distinct refresh cookies of a request, at most MAX_LOGOUT_COOKIES: each costs the store a call. */
const logoutCookies = (cookies: string | undefined, name: string) => [...new Set(cookieValues(cookies, name))].slice(0, MAX_LOGOUT_COOKIES);
/** The `acr` of a password sign-in, the only one the broker sets so far (README, step-up). */
export const PASSWORD_ACR = 'pwd';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function defaultAccountKey(credentials: Record<string, unknown>): string | null {
  for (const field of ['username', 'email', 'login']) {
    const value = credentials[field];
    if (typeof value === 'string' && value !== '') return value.normalize('NFKC').toLowerCase();
  }
  return null;
}

/** The directory the three endpoints share: the refresh cookie's Path, so it goes to them and nowhere else. */
function cookiePath(paths: { login: string; refresh: string; logout: string }): string {
  const dirs = Object.values(paths).map((p) => p.split('/').slice(0, -1));
  const common: string[] = [];
  for (let i = 0; dirs.every((d) => d[i] !== undefined && d[i] === dirs[0]![i]); i++) common.push(dirs[0]![i]!);
  return common.join('/') || '/';
}

/** Null when a refresh secret is usable, else why not. */
export function refreshSecretProblem(secret: string): string | null {
  if (!/^[A-Za-z0-9_-]*$/.test(secret)) return 'expected base64url';
  if (Buffer.from(secret, 'base64url').length < 32) return 'expected at least 32 bytes (43 base64url characters)';
  return null;
}

export async function createTokenBroker(options: TokenBrokerServerOptions): Promise<TokenBrokerServer> {
  const paths = { ...DEFAULT_PATHS, ...options.paths };
  for (const [name, path] of Object.entries(paths)) {
    if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path) || path.includes('//')) throw new OptionError(`paths.${name}`, `expected a plain absolute path, got "${path}"`);
  }
  if ((options.cookieSecure ?? 'auto') === 'auto' && process.env.NODE_ENV === 'production') {
    // A production deployment must not leave the cookie's security to a guess made per request.
    throw new OptionError('cookieSecure', "'auto' (the default) is refused with NODE_ENV=production: set true behind https, or false only for a plain-http intranet");
  }
  const ttl = options.accessTokenTtl ?? 300;
  const mode = options.dpop ?? 'off';
  const nonceRequired = mode !== 'off' && (options.dpopNonce ?? true);
  const clock = options.now ?? Date.now;
  const revocationCheck = options.revocationCheck ?? true;
  if (options.refreshSecret !== undefined && options.refreshSecret !== '') {
    const problem = refreshSecretProblem(options.refreshSecret);
    if (problem) throw new OptionError('refreshSecret', problem);
  }
  const secret = options.refreshSecret ? Buffer.from(options.refreshSecret, 'base64url') : randomBytes(32);
  const keys = await KeyRing.create(ttl, options.signingKey ?? '', clock);
  const accessTokens = new AccessTokens(keys, ttl, clock, options.issuer, options.audience);
  const store = guardBacking('refresh store', options.store);
  // The configured lifetimes: every family's without a lifetime policy, the ceiling of the policy's answers.
  const ceiling = { idleMs: (options.refreshIdleTtl ?? 14 * 86400) * 1000, absoluteMs: (options.refreshAbsoluteTtl ?? 30 * 86400) * 1000 };
  const refreshTokens = new RefreshTokens(
    store,
    {
      ...ceiling,
      graceMs: (options.rotationGraceSeconds ?? 10) * 1000,
      accessListMs: revocationCheck ? (ttl + REVOCATION_CLOCK_TOLERANCE_SECONDS) * 1000 : 0,
    },
    secret,
    clock,
  );
  const jti = guardBacking('DPoP replay cache', options.jti ?? memoryJtiStore());
  // Instances sharing the refresh secret issue and accept the same nonces.
  const nonces = DpopNonces.fromSecret(options.refreshSecret ? secret : undefined, (options.dpopNonceSeconds ?? 30) * 1000);
  const verifier = new DpopVerifier(jti, { nonces, requireNonce: nonceRequired, now: clock });
  const nonce = () => verifier.currentNonce();
  const limiter = options.rateLimits ?? memoryRateLimits();
  const perIp = options.limits?.perIp ?? 600;
  const limits = {
    loginIp: limiter({ name: 'login-ip', points: perIp, durationSeconds: 60 }),
    refreshIp: limiter({ name: 'refresh-ip', points: perIp, durationSeconds: 60 }),
    loginAccount: limiter({ name: 'login-account', points: options.limits?.perAccount ?? 10, durationSeconds: 60 }),
  };
  const accountKey = options.accountKey ?? defaultAccountKey;
  const emit = options.onEvent ?? (() => undefined);
  const security = new SecurityEvents(options.securityEvents ?? {}, clock, ceiling.absoluteMs);
  const familyLifetimes = (policy: LifetimePolicy, sub: string, request: BrokerHttpRequest, jkt: string | null) => {
    const { known, device } = security.knownDevice(sub, request, jkt);
    return decideLifetimes(policy, { sub, knownDevice: known, device }, ceiling, (err) => security.hookFailed('lifetimePolicy', err));
  };
  const outage = (err: unknown): BrokerHttpResponse => {
    if (err instanceof BackingUnavailable) emit('backing_unavailable', { backing: err.backing, message: err.message });
    return unavailableResponse(err);
  };
  const cookieSecurity = options.cookieSecure ?? 'auto';
  const cookieName = refreshCookieName(cookieSecurity !== false);
  const cookieFor = (request: Pick<BrokerHttpRequest, 'origin' | 'headers'>) => {
    const secure = secureCookieFor(cookieSecurity, request);
    // The plain cookie of development keeps to the auth routes.
    const { name, path } = cookieScope(secure, { secure: SECURE_COOKIE_NAME, plain: PLAIN_COOKIE_NAME }, cookiePath(paths));
    return { name, attributes: { httpOnly: true, sameSite: 'strict' as const, secure, path } };
  };
  const renewHeader = options.renewHeader ? options.renewHeader.toLowerCase() : null;
  const missingToken = missingTokenChallenge(mode);

  const announce = (): Record<string, string> => (nonceRequired ? { 'dpop-nonce': nonce() } : {});
  const withAnnounce = (response: BrokerHttpResponse): BrokerHttpResponse => ({ ...response, headers: { ...announce(), ...response.headers } });
  const setCookie = (request: BrokerHttpRequest, value: string) => {
    const { name, attributes } = cookieFor(request);
    return serializeCookie(name, value, { ...attributes, maxAge: options.refreshIdleTtl ?? 14 * 86400 });
  };
  const clearCookie = (request: BrokerHttpRequest) => {
    const { name, attributes } = cookieFor(request);
    return serializeCookie(name, '', { ...attributes, expires: new Date(0) });
  };
  /** The cookie of before `__Host-`, which is never read: the browser may drop this host's copy. */
  const clearLegacy = (request: BrokerHttpRequest): string[] =>
    cookieCount(header(request, 'cookie'), LEGACY_COOKIE.name) > 0
      ? [serializeCookie(LEGACY_COOKIE.name, '', { httpOnly: true, sameSite: 'strict', secure: true, path: LEGACY_COOKIE.path, expires: new Date(0) })]
      : [];
  const presentedCookie = (request: BrokerHttpRequest) => parseCookies(header(request, 'cookie') ?? '')[cookieFor(request).name];
  const tooMany = (seconds: number, what: string) => errorResponse(429, 'rate_limited', `${what}; retry in ${seconds} s`, { 'retry-after': String(seconds) });

  /** The checks every token endpoint makes before it reads anything: its exact path, CSRF, cookie tossing (but on logout). */
  function refuseEarly(request: BrokerHttpRequest, path: string): BrokerHttpResponse | null {
    // Routers decode paths, so `/%61uth/login` would reach the login route: only the exact spelling is one.
    if (rawPath(request) !== path) return errorResponse(404, 'not_found', `No route for ${request.method} ${rawPath(request)}`);
    const violation = csrfViolation(request);
    if (violation) return errorResponse(403, 'csrf', `Refused: ${violation}`);
    const { name } = cookieFor(request);
    if (path !== paths.logout && cookieCount(header(request, 'cookie'), name) > 1) {
      return errorResponse(400, 'duplicate_cookie', `More than one ${name} cookie: one was set by another site (cookie tossing); nothing was changed`);
    }
    return null;
  }

  /** A token request's DPoP key (its thumbprint and the client's clock skew), null without one (when allowed), or the refusal. */
  async function proofKey(request: BrokerHttpRequest): Promise<ProofBinding | null | BrokerHttpResponse> {
    if (mode === 'off') return null;
    const proof = request.headers.dpop;
    if (proof === undefined && mode === 'optional') return null;
    const result = await verifier.verify(proof, { method: request.method, url: request.origin + request.url });
    return result.ok ? { jkt: result.jkt, clockSkew: result.clockSkew } : dpopBadRequest(result.error, result.message, nonce);
  }

  async function grant(request: BrokerHttpRequest, account: Account, family: { token: string; familyId: string }, key: ProofBinding | null): Promise<BrokerHttpResponse> {
    const jkt = key?.jkt ?? null;
    const body = {
      access_token: await accessTokens.issue(account, { jkt, clockSkew: key?.clockSkew, sid: family.familyId }),
      token_type: jkt ? 'DPoP' : 'Bearer',
      expires_in: ttl,
    };
    return jsonResponse(200, body, {}, [setCookie(request, family.token)]);
  }

  async function login(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    const early = refuseEarly(request, paths.login);
    if (early) return early;
    const credentials = request.body;
    if (!isPlainObject(credentials) || Object.keys(credentials).length > MAX_CREDENTIAL_FIELDS) {
      return errorResponse(400, 'bad_request', 'The login body must be a JSON object of credentials');
    }
    const ipWait = await consume(limits.loginIp, request.ip);
    if (ipWait !== null) return tooMany(ipWait, 'Too many requests from this address');
    // Before the password hash: a bad proof costs the server nothing.
    const key = await proofKey(request);
    if (key !== null && 'status' in key) return key;
    const accountId = accountKey(credentials);
    if (accountId === null) return errorResponse(400, 'bad_request', 'The credentials name no account (username, email or login)');
    // Reserved before the check: however many arrive at once, no more than the limit are checked.
    const accountWait = await consume(limits.loginAccount, accountId);
    if (accountWait !== null) return tooMany(accountWait, 'Too many login attempts for this account');
    emit('password_check');
    const account = await options.verifyCredentials(credentials);
    if (!account) {
      emit('login_failed');
      security.loginFailed(accountId, request, key?.jkt ?? null);
      return errorResponse(401, 'invalid_credentials', 'Unknown account or wrong credentials');
    }
    emit('login', { sub: account.sub });
    // The browser's session before this one: the new cookie replaces its cookie, so nothing but a
    // copy could still use it (or a logout the worker asked for during this login, which would
    // revoke only the new one).
    const previous = presentedCookie(request);
    if (previous) await refreshTokens.revoke(previous);
    // The sign-in's facts (RFC 9470) ride in the family's claims, so every refresh and renewal keeps
    // them: a refresh is not a new sign-in. The broker's values win over an account's claims of these names.
    const signedIn: Account = { sub: account.sub, claims: { ...account.claims, auth_time: Math.floor(clock() / 1000), acr: PASSWORD_ACR, amr: ['pwd'] } };
    const lifetimes = options.lifetimePolicy ? familyLifetimes(options.lifetimePolicy, signedIn.sub, request, key?.jkt ?? null) : undefined;
    const family = await refreshTokens.issue(signedIn.sub, clock(), key?.jkt ?? null, signedIn.claims, lifetimes);
    if (security.login(accountId, signedIn.sub, family.familyId, request, key?.jkt ?? null) === 'revoke') {
      await refreshTokens.revoke(family.token);
      return errorResponse(403, 'sign_in_refused', 'This sign-in was refused by the security policy');
    }
    return grant(request, signedIn, family, key);
  }

  async function reauthenticate(request: BrokerHttpRequest, credentials: unknown, sub: string): Promise<BrokerHttpResponse | null> {
    if (!isPlainObject(credentials) || Object.keys(credentials).length > MAX_CREDENTIAL_FIELDS) {
      return errorResponse(400, 'bad_request', 'The credentials must be a JSON object, as login takes them');
    }
    const ipWait = await consume(limits.loginIp, request.ip);
    if (ipWait !== null) return tooMany(ipWait, 'Too many requests from this address');
    const accountId = accountKey(credentials);
    if (accountId === null) return errorResponse(400, 'bad_request', 'The credentials name no account (username, email or login)');
    // The login's own budget: a session cannot be used to guess the password faster than the login form.
    const accountWait = await consume(limits.loginAccount, accountId);
    if (accountWait !== null) return tooMany(accountWait, 'Too many login attempts for this account');
    emit('password_check');
    const account = await options.verifyCredentials(credentials);
    // Another account's good password proves nothing about this session.
    if (account?.sub !== sub) {
      emit('login_failed');
      security.loginFailed(accountId, request, null);
      return errorResponse(403, 'invalid_credentials', "Wrong credentials for the signed-in account");
    }
    return null;
  }

  async function passkeyChanged(change: 'added' | 'removed', sub: string, sid: string, credential: string, request: BrokerHttpRequest, jkt: string | null): Promise<boolean> {
    if (security.passkey(change, sub, sid, credential, request, jkt) !== 'revoke') return false;
    await refreshTokens.revokeFamily(sid);
    return true;
  }

  async function startSession(request: BrokerHttpRequest, account: Account, facts: SignInFacts, jkt: string | null, sealed?: string): Promise<StartedSession> {
    // A top-level navigation (the provider's redirect back) sends no Origin: the cookie's security
    // is judged by the origin the adapter derived, as the worker's refresh will find it.
    const navigation: BrokerHttpRequest = { ...request, headers: { ...request.headers, origin: header(request, 'origin') ?? request.origin } };
    const signedIn: Account = { sub: account.sub, claims: { ...account.claims, auth_time: facts.authTime, acr: facts.acr, amr: facts.amr } };
    // A family the refresh would refuse at once is not started.
    if (jkt === null && mode === 'required') return { ok: false, response: errorResponse(400, 'invalid_dpop_proof', 'DPoP is required: this sign-in was started without the worker\'s key') };
    const lifetimes = options.lifetimePolicy ? familyLifetimes(options.lifetimePolicy, signedIn.sub, navigation, jkt) : undefined;
    const family = await refreshTokens.issue(signedIn.sub, clock(), jkt, signedIn.claims, lifetimes, sealed);
    if (security.login(signedIn.sub, signedIn.sub, family.familyId, navigation, jkt) === 'revoke') {
      await refreshTokens.revoke(family.token);
      return { ok: false, response: errorResponse(403, 'sign_in_refused', 'This sign-in was refused by the security policy') };
    }
    emit('login', { sub: signedIn.sub });
    return { ok: true, familyId: family.familyId, cookies: [setCookie(navigation, family.token)] };
  }

  /** A refresh whose family the security policy just ended. */
  const policyRevoked = (request: BrokerHttpRequest): BrokerHttpResponse => ({
    ...errorResponse(401, 'session_revoked', 'This sign-in was ended by the security policy; sign in again'),
    cookies: [clearCookie(request)],
  });

  async function refresh(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    const early = refuseEarly(request, paths.refresh);
    if (early) return early;
    const ipWait = await consume(limits.refreshIp, request.ip);
    if (ipWait !== null) return tooMany(ipWait, 'Too many requests from this address');
    const presented = presentedCookie(request);
    // A bad proof leaves the cookie alone: it may be a script without the key, not its owner.
    const key = await proofKey(request);
    if (key !== null && 'status' in key) return key;
    const outcome = presented ? await refreshTokens.rotate(presented, clock(), key?.jkt ?? null) : ({ ok: false, reason: 'unknown' } as const);
    if (!outcome.ok && outcome.reason === 'wrong_key') {
      emit('refresh_rejected', { reason: outcome.reason });
      // The presenter holds the cookie (it came from this browser's jar), so it names the family; the policy may end it.
      if (security.foreignKey(outcome.userId!, outcome.familyId!, request, key?.jkt ?? null) === 'revoke' && presented) {
        await refreshTokens.revoke(presented);
        return policyRevoked(request);
      }
      return errorResponse(400, 'invalid_dpop_proof', 'This refresh token is bound to a DPoP key: present a proof signed with it');
    }
    if (!outcome.ok) {
      // No cookie at all is a first visit (the worker's silent restore), not a refused token.
      if (presented) emit('refresh_rejected', { reason: outcome.reason });
      else emit('no_session');
      // The store revoked the family in the same step: the policy's answer has nothing left to end.
      if (outcome.reason === 'reused') security.reused(outcome.userId!, outcome.familyId!, request, key?.jkt ?? null);
      return { ...errorResponse(401, 'invalid_grant', `The refresh token is ${outcome.reason}; sign in again`), cookies: [clearCookie(request), ...clearLegacy(request)] };
    }
    if (outcome.jkt === null && mode === 'required') {
      // A bearer login (made before DPoP was required) never becomes a bound one: it ends here.
      await refreshTokens.revoke(outcome.token);
      emit('refresh_rejected', { reason: 'unbound' });
      return { ...errorResponse(401, 'invalid_grant', 'This sign-in is not bound to a DPoP key, which is now required; sign in again'), cookies: [clearCookie(request)] };
    }
    emit('refresh', { sub: outcome.userId });
    if (security.refreshed(outcome.userId, outcome.familyId, request, key?.jkt ?? null) === 'revoke') {
      await refreshTokens.revoke(outcome.token);
      return policyRevoked(request);
    }
    if (upstream) {
      const provided = await upstreamGrant(request, outcome);
      if (provided) return provided;
    }
    // The family's binding is fixed at its creation: a proof on an unbound family's refresh binds nothing,
    // or a script could launder a session it planted into one that looks bound to the victim's key.
    const granted = await grant(request, { sub: outcome.userId, claims: outcome.claims }, outcome, outcome.jkt ? { jkt: outcome.jkt, clockSkew: key?.clockSkew ?? 0 } : null);
    return { ...granted, cookies: [...granted.cookies, ...clearLegacy(request)] };
  }

  /**
   * Token-handler mode: the provider's access token in place of a local one, or the session's end
   * when the provider refused. Null: a local token. Called after the rotation, so every answer
   * carries the successor cookie, the 503 of a provider outage too: the session outlives the outage.
   */
  async function upstreamGrant(request: BrokerHttpRequest, outcome: { familyId: string; token: string; userId: string }): Promise<BrokerHttpResponse | null> {
    let provided: Awaited<ReturnType<UpstreamSession['grant']>>;
    let live = true;
    try {
      provided = await upstream!.grant(outcome.familyId);
      // No record is a password login's family, or one revoked since its rotation (a logout on another
      // instance, while this one waited on that family's upstream refresh): the latter gets no token.
      if (provided === null) live = (await refreshTokens.liveUntil(outcome.familyId)) !== null;
    } catch (err) {
      const down = outage(err);
      // Not "nothing was changed": the cookie has rotated, and the session goes on with the new one.
      const message = `The ${(err as BackingUnavailable).backing} is unavailable; the session is kept with its new cookie. Retry in ${down.headers['retry-after']} s`;
      return { ...down, body: { error: 'unavailable', message }, cookies: [setCookie(request, outcome.token)] };
    }
    if (provided === null) {
      if (live) return null;
      emit('refresh_rejected', { reason: 'revoked' });
      return { ...errorResponse(401, 'invalid_grant', 'The refresh token is revoked; sign in again'), cookies: [clearCookie(request)] };
    }
    if (provided === UPSTREAM_ENDED || provided === UPSTREAM_UNREADABLE) {
      await refreshTokens.revokeFamily(outcome.familyId);
      const ended = provided === UPSTREAM_ENDED;
      emit('refresh_rejected', { reason: ended ? 'upstream_ended' : 'upstream_unreadable' });
      const message = ended ? 'The provider ended this sign-in; sign in again' : "This sign-in's provider tokens can no longer be opened here (their upstreamKey is not listed); sign in again";
      return { ...errorResponse(401, 'invalid_grant', message), cookies: [clearCookie(request)] };
    }
    const body = { access_token: provided.accessToken, token_type: provided.tokenType, expires_in: provided.expiresIn };
    return jsonResponse(200, body, {}, [setCookie(request, outcome.token), ...clearLegacy(request)]);
  }

  async function logout(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    const early = refuseEarly(request, paths.logout);
    if (early) return early;
    if (upstream) return upstreamLogout(request);
    return localLogout(request);
  }

  /**
   * The provider's half around the local logout, for every family a cookie names (as the local one):
   * each record read first (the revocation clears it), its revocation after. The local logout happens
   * whatever the provider's half does: a provider or a metadata that fails must not keep a session alive.
   */
  async function upstreamLogout(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    // Each family once (a repeated cookie would wait on the lease its first mention took), all at once
    // under one lease's wait, and only as many as a browser's jar plausibly holds.
    const presented = logoutCookies(header(request, 'cookie'), cookieFor(request).name);
    const families = new Set((await Promise.all(presented.map((token) => upstreamRecords!.familyOf(token).catch(() => null)))).filter((f) => f !== null));
    const halves = (await Promise.all([...families].map((familyId) => upstream!.loggingOut(familyId).catch(() => null)))).filter((half) => half !== null);
    const local = await localLogout(request);
    for (const half of halves) await half.finish().catch(() => undefined);
    const logoutUrl = halves.find((half) => half.logoutUrl)?.logoutUrl;
    return logoutUrl ? { ...local, body: { ok: true, logoutUrl } } : local;
  }

  async function localLogout(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    // A tossed cookie beside the browser's own: revoke every family named. That can only
    // end sessions, and the worker's account_changed logout meets just this jar
    // (the planted cookie for the parent domain and its rotated successor).
    let sub: string | null = null;
    for (const presented of logoutCookies(header(request, 'cookie'), cookieFor(request).name)) sub = (await refreshTokens.revoke(presented)) ?? sub;
    // Only the worker's own reasons count; anything else in the body is an ordinary logout.
    const reason = isPlainObject(request.body) && request.body.reason;
    // The reason is the client's word: it counts only when the logout revoked a session.
    if (sub === null) return jsonResponse(200, { ok: true }, {}, [clearCookie(request), ...clearLegacy(request)]);
    emit(reason === 'account_changed' || reason === 'key_replaced' ? reason : 'logout_revoked', { revoked: true, sub });
    return jsonResponse(200, { ok: true }, {}, [clearCookie(request), ...clearLegacy(request)]);
  }

  async function renewal(claims: AccessClaims): Promise<Record<string, string>> {
    // Once half of the token's life is gone, and only while its sign-in session is live: a token
    // kept after sign-out, "sign out everywhere" or the session's end must not renew itself for ever.
    if (!renewHeader || typeof claims.sid !== 'string') return {};
    if (claims.exp - clock() / 1000 >= ttl / 2) return {};
    const notAfter = await refreshTokens.liveUntil(claims.sid);
    if (notAfter === null) return {};
    const { sub, sid, cnf, dpop_skew: clockSkew, ...rest } = claims;
    // Bound to the same key as the token it renews: renewal must not turn a DPoP token into a bearer one.
    return { [renewHeader]: await accessTokens.issue({ sub, claims: rest }, { jkt: cnf?.jkt ?? null, clockSkew, sid, notAfter }) };
  }

  async function authenticate(request: BrokerHttpRequest, requirement?: StepUpRequirement): Promise<AccessResult> {
    const refuse = (response: BrokerHttpResponse): AccessResult => {
      emit('api_unauthorized');
      return { ok: false, response: withAnnounce(response) };
    };
    const match = AUTHORIZATION.exec(header(request, 'authorization') ?? '');
    const scheme = match?.[1];
    const verifyingToken = match ? accessTokens.verify(match[2]!) : Promise.resolve(null);
    // The proof is verified while the token is: two signatures at once, not one after the other.
    // Its iat is judged by the token's dpop_skew, which the verifier awaits last.
    const verifyingProof =
      scheme === 'DPoP' && mode !== 'off'
        ? verifier.verify(request.headers.dpop, {
            method: request.method,
            url: request.origin + request.url,
            accessToken: match![2]!,
            clockSkew: verifyingToken.then((c) => (typeof c?.dpop_skew === 'number' ? c.dpop_skew : 0)),
          })
        : null;
    // A refusal for the token leaves the proof's verification to finish unwatched.
    verifyingProof?.catch(() => undefined);
    const claims = await verifyingToken;
    if (!claims || (scheme === 'DPoP' && mode === 'off')) {
      return refuse(errorResponse(401, 'invalid_token', 'A valid access token is required', { 'www-authenticate': missingToken }));
    }
    const bound = claims.cnf?.jkt;
    if (scheme === 'Bearer' && (bound !== undefined || mode === 'required')) {
      // A bound token is worth nothing without its key: as a bearer token it is refused outright.
      return refuse(dpopUnauthorized('invalid_token', bound ? 'This access token is DPoP-bound: send it with a proof' : 'DPoP is required', nonce));
    }
    if (scheme === 'DPoP') {
      if (bound === undefined) return refuse(dpopUnauthorized('invalid_token', 'This access token is not DPoP-bound', nonce));
      const result = await verifyingProof!;
      if (!result.ok) return refuse(dpopUnauthorized(result.error, result.message, nonce));
      if (result.jkt !== bound) return refuse(dpopUnauthorized('invalid_dpop_proof', 'The DPoP proof is signed with another key than the token is bound to', nonce));
    }
    // After the signature (and the proof): the store is asked only about tokens this server issued.
    // Before step-up: a revoked session's token is refused as revoked, not sent to sign in again.
    if (revocationCheck && typeof claims.sid === 'string' && (await refreshTokens.accessRevoked(claims.sid))) {
      const message = 'This access token was revoked: its sign-in session ended';
      return refuse(
        scheme === 'DPoP'
          ? { ...dpopUnauthorized('invalid_token', message, nonce), body: { error: 'token_revoked', message } }
          : errorResponse(401, 'token_revoked', message, { 'www-authenticate': 'Bearer error="invalid_token", error_description="revoked"' }),
      );
    }
    if (requirement && !meetsRequirement(claims, requirement, Math.floor(clock() / 1000))) {
      emit('step_up_required');
      return { ok: false, response: withAnnounce(stepUpRequired(scheme === 'DPoP' ? 'DPoP' : 'Bearer', requirement)) };
    }
    emit('api_ok');
    return { ok: true, claims, headers: { ...announce(), ...(await renewal(claims)) } };
  }

  let upstream: UpstreamSession | null = null;
  const upstreamRecords = refreshTokens.upstreamRecords();

  return {
    paths,
    cookieName,
    upstreamRecords,
    attachUpstream(session) {
      if (upstream) throw new OptionError('oidc', 'this broker already has a token handler');
      if (!upstreamRecords) throw new OptionError('store', 'this store keeps no upstream records (familyOf, upstream, leaseUpstream, releaseUpstream): use memoryStore, openSqliteStore or openRedisStore');
      upstream = session;
    },
    cookieNameFor: (request) => cookieFor(request).name,
    keys,
    accessTokens,
    refreshTokens,
    login: (request) => login(request).catch(outage).then(withAnnounce),
    refresh: (request) => refresh(request).catch(outage).then(withAnnounce),
    logout: (request) => logout(request).catch(outage).then(withAnnounce),
    authenticate: (request, requirement) => authenticate(request, requirement).catch((err: unknown): AccessResult => ({ ok: false, response: withAnnounce(outage(err)) })),
    startSession: (request, account, facts, jkt = null, sealed) => startSession(request, account, facts, jkt, sealed).catch((err: unknown): StartedSession => ({ ok: false, response: outage(err) })),
    proofKey: async (request) => {
      const key = await proofKey(request);
      return key !== null && 'status' in key ? { ok: false, response: key } : { ok: true, jkt: key?.jkt ?? null };
    },
    jwks: () => keys.jwks(),
    revokeUser: (sub) => refreshTokens.revokeUser(sub),
    revokeSession: (sid) => refreshTokens.revokeFamily(sid),
    announce,
    reauthenticate: (request, credentials, sub) => reauthenticate(request, credentials, sub).catch(outage),
    passkeyChanged,
    async close() {
      await jti.close();
      await store.close();
    },
  };
}
