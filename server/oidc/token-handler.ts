// Token-handler mode: the backend is a confidential OpenID Connect client of an
// upstream provider, and the worker's refresh endpoint hands out the session's
// access tokens. openid-client does the protocol (discovery, PAR, PKCE, the
// code exchange, the ID token's validation); this module only ties it to the
// broker's session: the start route, the callback, the redirect back.
import { parse as parseCookies } from 'cookie';
import * as oidc from 'openid-client';
import type { JWK } from 'jose';
import { importJWK } from 'jose';
import type { Account, TokenBrokerServer } from '../core/token-broker';
import { OptionError } from '../core/errors';
import { errorResponse, header, jsonResponse, type BrokerHttpRequest, type BrokerHttpResponse } from '../core/http';
import type { RateLimitBacking } from '../core/rate-limits';
import { redirectResponse, type RedirectSignIn } from '../core/redirect-sign-in';
import { secureCookieFor, type CookieSecurity } from '../core/cookie-security';
import { cookieCount } from '../core/cookie-tossing';
import { SIGN_IN_ERROR_MESSAGES, SIGN_IN_ERROR_PARAM, SIGN_IN_PARAM, SignInError, signInErrorOf } from './errors';
import { sameOriginPath, withParam } from './return-to';
import { signInFacts } from './sign-in-facts';
import { defaultAccount } from './account';
import { openRoundTrip, roundTripCookie, roundTripScope, sealRoundTrip } from './round-trip-cookie';
import { readStartRequest } from './start-request';
import { signInLimits } from './sign-in-limits';
import { isCrossSiteSubresource } from './fetch-mode';
import { upstreamSeal } from './upstream-seal';
import { ProviderTokens, recordFromTokens } from './provider-tokens';
import { providerLogout } from './provider-logout';

export interface OidcOptions {
  /** The provider's issuer; its discovery document is read from `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** `client_secret_basic`; or give `clientPrivateKey` for `private_key_jwt`. */
  clientSecret?: string;
  /** A private JWK (with `alg` and `kid`) whose public half the provider has: `private_key_jwt`. */
  clientPrivateKey?: JWK;
  /** The callback's absolute URL, exactly as registered at the provider. */
  redirectUri: string;
  /** Default `openid`. Add `offline_access` where the provider wants it for a refresh token. */
  scope?: string;
  /** base64url, 32 bytes: encrypts the sign-in's round-trip cookie. Shared by every instance. */
  secret: string;
  /** The start and callback routes (defaults /auth/oidc/start, /auth/oidc/callback). */
  paths?: { start?: string; callback?: string };
  /**
   * The session's account from the ID token's claims; by default `<iss>#<sub>` and no other claim,
   * so a provider's `sub` never names a password account or another provider's user.
   */
  account?(claims: oidc.IDToken): Account;
  /**
   * More parameters of the authorization request, the same for every sign-in: a provider's own
   * (Google's `{ access_type: 'offline', prompt: 'consent' }` for a refresh token) or standard ones
   * such as `acr_values`. Not the protocol's own (`state`, `nonce`, `redirect_uri`, `scope`, PKCE...).
   */
  authorizationParams?: Record<string, string>;
  /** Pushed authorization requests (RFC 9126): `'auto'` (the default) uses them where the provider offers them. */
  par?: 'auto' | boolean;
  /** Plain-http provider: loopback tests and development only. */
  allowInsecureRequests?: boolean;
  /** As the broker's `cookieSecure`, for the round-trip cookie. */
  cookieSecure?: CookieSecurity;
  /** The clock (ms since the epoch); the broker's, by default `Date.now`. */
  now?: () => number;
  /** Where the per-address counts of the start and callback routes are kept: give the broker's `rateLimits` (memory by default, one process). */
  rateLimits?: RateLimitBacking;
  /** Requests per address and minute, for each of the start and callback routes (default 60). */
  limits?: { perIp?: number };
  /**
   * What the worker's refresh endpoint hands out: `'local'` (the default), the broker's own
   * access tokens carrying the provider's `sub`, checked by `requireAccessToken`; or
   * `'provider'`, the provider's access tokens, refreshed upstream when due, for an API that
   * already trusts the provider. `'provider'` needs `upstreamKey`.
   */
  tokens?: 'local' | 'provider';
  /**
   * base64url, 32 bytes (or a list, the first sealing, every one opening: key rotation):
   * encrypts the provider's tokens kept with each session in the store. Shared by every
   * instance. With it, logout also revokes the provider's refresh token.
   */
  upstreamKey?: string | string[];
  /** Where the provider sends the browser after its RP-initiated logout; registered at the provider. */
  postLogoutRedirectUri?: string;
  /** `'provider'` tokens: seconds before their expiry at which they are refreshed upstream (default 60; above the worker's refreshBeforeExpiry). */
  refreshMarginSeconds?: number;
}

/** The authorization request's parameters the handler sets itself, or that would change what the request is or who the client is. */
const PROTOCOL_PARAMS = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method',
  'request', 'request_uri', 'dpop_jkt', 'client_secret', 'client_assertion', 'client_assertion_type',
]);

/** A copy, frozen: the options object stays the app's, and a later change to it must not reach a sign-in unchecked. */
function checkAuthorizationParams(params: unknown): Readonly<Record<string, string>> | undefined {
  if (params === undefined) return undefined;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new OptionError('oidc.authorizationParams', 'expected an object of string values');
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') throw new OptionError('oidc.authorizationParams', `${name}: expected a string`);
    // Parameter names are case-sensitive at the provider, but one that reads a name case-insensitively must not be handed a second state.
    const lower = name.toLowerCase();
    if (PROTOCOL_PARAMS.has(lower)) throw new OptionError('oidc.authorizationParams', `${name} is the handler's own${lower === 'scope' ? ' (use the scope option)' : ''}`);
    copy[name] = value;
  }
  return Object.freeze(copy);
}

type PrivateKeyJwtKey = Extract<Parameters<typeof oidc.PrivateKeyJwt>[0], { key: unknown }>;

const DEFAULT_PATHS = { start: '/auth/oidc/start', callback: '/auth/oidc/callback' };

function checkOptions(options: OidcOptions): { key: Uint8Array; authorizationParams: Readonly<Record<string, string>> | undefined; marginSeconds: number } {
  const key = Buffer.from(options.secret ?? '', 'base64url');
  if (!/^[A-Za-z0-9_-]+$/.test(options.secret ?? '') || key.length !== 32) throw new OptionError('oidc.secret', 'expected 32 bytes, base64url (43 characters)');
  if (!options.clientSecret === !options.clientPrivateKey) throw new OptionError('oidc', 'give one of clientSecret (client_secret_basic) or clientPrivateKey (private_key_jwt)');
  try {
    new URL(options.issuer);
    new URL(options.redirectUri);
  } catch {
    throw new OptionError('oidc', 'issuer and redirectUri must be absolute URLs');
  }
  if (options.tokens !== undefined && options.tokens !== 'local' && options.tokens !== 'provider') throw new OptionError('oidc.tokens', "expected 'local' or 'provider'");
  const authorizationParams = checkAuthorizationParams(options.authorizationParams);
  const marginSeconds = options.refreshMarginSeconds ?? 60;
  if (!Number.isInteger(marginSeconds) || marginSeconds < 0 || marginSeconds > 3600) throw new OptionError('oidc.refreshMarginSeconds', 'expected whole seconds, 0 to 3600');
  if (options.tokens === 'provider' && options.upstreamKey === undefined) throw new OptionError('oidc.upstreamKey', "tokens: 'provider' keeps the provider's tokens in the store: give the key that encrypts them");
  if (new URL(options.redirectUri).pathname !== (options.paths?.callback ?? DEFAULT_PATHS.callback)) {
    throw new OptionError('oidc.redirectUri', `its path must be the callback route (${options.paths?.callback ?? DEFAULT_PATHS.callback})`);
  }
  return { key: new Uint8Array(key), authorizationParams, marginSeconds };
}

export interface OidcTokenHandler extends RedirectSignIn {
  /** The provider's configuration as discovered (after the first sign-in or `ready()`). */
  ready(): Promise<oidc.Configuration>;
}

export function createOidcTokenHandler(broker: TokenBrokerServer, options: OidcOptions): OidcTokenHandler {
  const { key, authorizationParams, marginSeconds } = checkOptions(options);
  const paths = { ...DEFAULT_PATHS, ...options.paths };
  const clock = options.now ?? Date.now;
  const cookieSecurity = options.cookieSecure ?? 'auto';
  const scope = options.scope ?? 'openid';
  const appOrigin = new URL(options.redirectUri).origin;
  const limits = signInLimits(options.rateLimits, options.limits?.perIp ?? 60);

  // Discovered on first use and kept; a failed discovery (the provider down) is tried again next time.
  let discovered: Promise<oidc.Configuration> | null = null;
  const discover = (): Promise<oidc.Configuration> => {
    discovered ??= (async () => {
      const auth = options.clientPrivateKey
        ? oidc.PrivateKeyJwt({ key: (await importJWK(options.clientPrivateKey)) as PrivateKeyJwtKey['key'], kid: options.clientPrivateKey.kid })
        : oidc.ClientSecretBasic(options.clientSecret!);
      // A bounded wait (seconds): the upstream refresh holds its lease meanwhile, and a logout waits on the revocation.
      return oidc.discovery(new URL(options.issuer), options.clientId, undefined, auth, { timeout: 5, ...(options.allowInsecureRequests ? { execute: [oidc.allowInsecureRequests] } : {}) });
    })();
    discovered.catch(() => (discovered = null));
    return discovered;
  };

  // A navigation sends no Origin header: the origin the adapter derived decides, as for the refresh cookie.
  const secureFor = (request: BrokerHttpRequest) => secureCookieFor(cookieSecurity, { origin: request.origin, headers: { origin: header(request, 'origin') ?? request.origin } });
  // The provider's tokens, sealed in the store with the family (the refresh token never leaves the server).
  const seal = options.upstreamKey !== undefined ? upstreamSeal(options.upstreamKey) : null;
  if (seal) {
    const records = broker.upstreamRecords;
    if (!records) throw new OptionError('store', 'this store keeps no upstream records: use memoryStore, openSqliteStore or openRedisStore');
    const provider = options.tokens === 'provider' ? new ProviderTokens(records, seal, discover, clock, marginSeconds) : null;
    broker.attachUpstream({
      grant: async (familyId) => (provider ? provider.grant(familyId) : null),
      loggingOut: (familyId) => providerLogout(familyId, records, seal, discover, options, clock),
    });
  }

  const failTo = (returnTo: string, err: unknown, cookies: string[]): BrokerHttpResponse =>
    redirectResponse(withParam(returnTo, SIGN_IN_ERROR_PARAM, signInErrorOf(err).code), cookies);

  async function start(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    if (isCrossSiteSubresource(request)) return errorResponse(400, 'bad_request', 'The sign-in start is a navigation');
    const asked = await readStartRequest(broker, request, appOrigin, paths.start);
    if (asked.kind === 'answer') return asked.response;
    const fromWorker = request.method === 'POST';
    // The worker's POST gets the redirect in its body (it hands it to the page), with the status a token endpoint would answer.
    const fail = (returnTo: string, err: unknown, status: number, headers: Record<string, string> = {}): BrokerHttpResponse => {
      const redirect = failTo(returnTo, err, []);
      const { code } = signInErrorOf(err);
      return fromWorker ? jsonResponse(status, { error: code, message: SIGN_IN_ERROR_MESSAGES[code], location: redirect.headers.location }, { 'cache-control': 'no-store', ...headers }) : redirect;
    };
    const wait = await limits.start(request.ip);
    if (wait !== null) return fail('/', new SignInError('rate_limited', `Too many sign-ins from this address; retry in ${wait} s`), 429, { 'retry-after': String(wait) });
    if (asked.kind === 'refused') return fail('/', asked.error, 400);
    const returnTo = sameOriginPath(asked.returnTo, appOrigin);
    if (returnTo === null) return fail('/', new SignInError('bad_return_to', 'returnTo must be a path of this origin'), 400);
    let config: oidc.Configuration;
    try {
      config = await discover();
    } catch (err) {
      return fail(returnTo, new SignInError('provider_unavailable', `Discovery failed: ${String(err)}`), 502);
    }
    const trip = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), returnTo, jkt: asked.jkt };
    // No dpop_jkt to the provider: it would bind the code to the worker's key, and the code's
    // exchange is this server's, which never holds that key. The binding is the broker's family.
    const parameters = {
      ...authorizationParams,
      redirect_uri: options.redirectUri,
      scope,
      state: trip.state,
      nonce: trip.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(trip.verifier),
      code_challenge_method: 'S256',
    };
    const par = options.par ?? 'auto';
    const usePar = par === true || (par === 'auto' && !!config.serverMetadata().pushed_authorization_request_endpoint);
    let location: URL;
    try {
      location = usePar ? await oidc.buildAuthorizationUrlWithPAR(config, parameters) : oidc.buildAuthorizationUrl(config, parameters);
    } catch (err) {
      return fail(returnTo, err, 502);
    }
    const sealed = await sealRoundTrip(trip, key, clock());
    const cookie = roundTripCookie(sealed, secureFor(request), paths.callback);
    return fromWorker ? jsonResponse(200, { location: location.href }, { 'cache-control': 'no-store' }, [cookie]) : redirectResponse(location.href, [cookie]);
  }

  async function callback(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    const secure = secureFor(request);
    // One-time: cleared by every answer, so the browser never presents it twice.
    const cleared = roundTripCookie('', secure, paths.callback);
    if (isCrossSiteSubresource(request)) return errorResponse(400, 'bad_request', 'The sign-in callback is a navigation');
    const cookies = header(request, 'cookie');
    const { name } = roundTripScope(secure, paths.callback);
    // Without a round-trip cookie (SameSite=Lax: never on another site's image or frame) it answers no sign-in, and
    // costs nothing: not counted, so another site cannot spend its visitor's limit.
    if (cookieCount(cookies, name) === 0) return failTo('/', new SignInError('state_mismatch', 'This callback answers no sign-in this browser started'), [cleared]);
    const wait = await limits.callback(request.ip);
    // Before the cookie is opened: a flood of callbacks costs no decryption and no call to the provider.
    if (wait !== null) return failTo('/', new SignInError('rate_limited', `Too many callbacks from this address; retry in ${wait} s`), [cleared]);
    // Two of them: one was tossed in by a sibling subdomain, and whichever is read may be the attacker's sign-in.
    const tossed = cookieCount(cookies, name) > 1;
    const trip = tossed ? null : await openRoundTrip(parseCookies(cookies ?? '')[name], key, clock());
    const current = new URL(request.url, options.redirectUri);
    if (!trip || current.searchParams.get('state') !== trip.state) {
      return failTo(trip?.returnTo ?? '/', new SignInError('state_mismatch', 'This callback answers no sign-in this browser started'), [cleared]);
    }
    let claims: oidc.IDToken;
    let sealed: string | undefined;
    try {
      const config = await discover();
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: trip.verifier,
        expectedState: trip.state,
        expectedNonce: trip.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims()!;
      sealed = seal ? await seal.seal(recordFromTokens(tokens, clock())) : undefined;
    } catch (err) {
      return failTo(trip.returnTo, err, [cleared]);
    }
    const account = options.account ? options.account(claims) : defaultAccount(claims);
    const now = Math.floor(clock() / 1000);
    const started = await broker.startSession(request, account, signInFacts(claims, now), trip.jkt, sealed);
    if (!started.ok) {
      const code = started.response.status === 403 ? 'sign_in_refused' : started.response.status === 400 ? 'dpop_required' : 'unavailable';
      return failTo(trip.returnTo, new SignInError(code, 'The session could not be started'), [cleared]);
    }
    return redirectResponse(withParam(trip.returnTo, SIGN_IN_PARAM, '1'), [...started.cookies, cleared]);
  }

  const guarded = (fn: (request: BrokerHttpRequest) => Promise<BrokerHttpResponse>) => (request: BrokerHttpRequest) =>
    fn(request).catch((err: unknown) => failTo('/', err, [roundTripCookie('', secureFor(request), paths.callback)]));

  return { paths, start: guarded(start), callback: guarded(callback), ready: discover };
}
