// Step-up with a passkey (WebAuthn): registration, assertion, list and removal
// endpoints on top of the broker. The worker calls them with the session's access token (and
// its DPoP proof), never the page; the step-up answer is a fresh access token of
// the same session with a new auth_time and acr `phr`, which only the worker sees.
// @simplewebauthn/server does the WebAuthn verification; this module binds its
// challenges to the sign-in session and keeps them one-time and short-lived.
// Adding or removing a passkey needs the account's owner proved again in the
// same call (an assertion of a passkey it has, or the password for its first),
// so a stolen session, or script in the page, cannot add a key of its own alone.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { AccessClaims, TokenBrokerServer } from '../core/token-broker';
import { csrfViolation } from '../core/csrf';
import { OptionError } from '../core/errors';
import { errorResponse, jsonResponse, rawPath, type BrokerHttpRequest, type BrokerHttpResponse, type PostEndpoints } from '../core/http';
import { PASSKEY_ACR, PASSKEY_AMR, PASSKEY_STEPS, type PasskeyInfo, type PasskeyProof, type PasskeyRegistration, type PasskeyRemoval, type PasskeyStep } from '../../sw/protocol';
import { challengeKey, ChallengeBook } from './challenges';
import { isCeremonyResponse, passkeyUserId, registrationOf, removalOf, toWebAuthnCredential } from './shape';
import type { PasskeyStore, StoredPasskey } from './store';

export interface PasskeyOptions {
  store: PasskeyStore;
  /** The relying party's name, shown by the authenticator. */
  rpName: string;
  /** The relying party id: the site's host name (or a registrable suffix of it). */
  rpID: string;
  /**
   * The page origins a ceremony may come from (`['https://app.example.com']`), or a test of the
   * request's own origin (as the adapter derived it), for a server whose port or host is not known up front.
   */
  origins: string[] | ((origin: string) => boolean);
  /** Prefix of the six endpoints (default `/auth/passkey`): what the worker's `endpoints.passkey` says. */
  path?: string;
  /** Seconds a challenge may be answered in (default 120). */
  challengeSeconds?: number;
  /** Seconds since the sign-in within which a passkey may be added (default 600): a stolen old session cannot add one. */
  registerMaxAge?: number;
  /** The name the authenticator shows for the account; by default the token's `name` claim, else its `sub`. */
  userName?(claims: AccessClaims): string;
  /** The same clock as the broker's (ms since the epoch). */
  now?: () => number;
}

/** Mounted by the Express router's and the Fastify plugin's `passkeys` option. */
export interface PasskeyEndpoints extends PostEndpoints {
  /** The six paths: `<path>/register-options`, `<path>/register`, `<path>/step-up-options`, `<path>/step-up`, `<path>/list`, `<path>/remove`. */
  readonly paths: readonly string[];
  /** Answers one of the six endpoints (POST, JSON); a 404 for any other path. */
  handle(request: BrokerHttpRequest): Promise<BrokerHttpResponse>;
}

const invalid = (message: string) => errorResponse(400, 'invalid_passkey', message);

export function createPasskeys(broker: TokenBrokerServer, options: PasskeyOptions): PasskeyEndpoints {
  const prefix = options.path ?? '/auth/passkey';
  if (!/^\/[A-Za-z0-9._~\-/]*[^/]$/.test(prefix)) throw new OptionError('passkeys.path', `expected a plain absolute path without a trailing /, got "${prefix}"`);
  if (Array.isArray(options.origins) && !options.origins.length) throw new OptionError('passkeys.origins', 'name at least one page origin');
  const { origins } = options;
  const originsFor = (request: BrokerHttpRequest): string[] => (Array.isArray(origins) ? origins : origins(request.origin) ? [request.origin] : []);
  const clock = options.now ?? Date.now;
  const challenges = new ChallengeBook(options.store, (options.challengeSeconds ?? 120) * 1000, clock);
  const registerMaxAge = options.registerMaxAge ?? 600;
  const name = options.userName ?? ((c: AccessClaims) => (typeof c.name === 'string' && c.name ? c.name : c.sub));
  const expected = (request: BrokerHttpRequest) => ({ expectedOrigin: originsFor(request), expectedRPID: options.rpID, requireUserVerification: true });

  async function registerOptions(claims: AccessClaims, sid: string): Promise<BrokerHttpResponse> {
    const existing = await options.store.credentialsOf(claims.sub);
    const created = await generateRegistrationOptions({
      rpName: options.rpName,
      rpID: options.rpID,
      userName: name(claims),
      userID: passkeyUserId(claims.sub),
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    });
    await challenges.put(challengeKey(sid, 'register'), created.challenge);
    return jsonResponse(200, { options: created });
  }

  /**
   * Whether the account's owner is here, proved again in this call: an account with a passkey answers the
   * session's pending step-up challenge with one (user verified); one without gives its password again.
   * Null when proved, else the refusal. Page script with the session alone has neither.
   */
  async function proved(request: BrokerHttpRequest, claims: AccessClaims, sid: string, proof: PasskeyProof): Promise<BrokerHttpResponse | null> {
    const mine = await options.store.credentialsOf(claims.sub);
    if (mine.length) {
      if (!('assertion' in proof)) return errorResponse(403, 'passkey_required', 'This account has a passkey: adding or removing one needs an assertion of one of its passkeys');
      const asserted = await assertion(request, claims, sid, proof.assertion as unknown as AuthenticationResponseJSON);
      return 'status' in asserted ? asserted : null;
    }
    if (!('credentials' in proof)) return errorResponse(403, 'password_required', "The account's first passkey needs its password again");
    return broker.reauthenticate(request, proof.credentials, claims.sub);
  }

  /** The policy's answer to a passkey added or removed: a revoke has ended the session. */
  const sessionEnded = () => errorResponse(401, 'session_revoked', 'This session was ended by the security policy; sign in again');

  async function register(request: BrokerHttpRequest, claims: AccessClaims, sid: string, { credential: response, proof }: PasskeyRegistration): Promise<BrokerHttpResponse> {
    const challenge = await challenges.take(challengeKey(sid, 'register'));
    if (challenge === null) return invalid('No registration is pending for this session (expired or already used): ask for new options');
    const refused = await proved(request, claims, sid, proof);
    if (refused) return refused;
    const result = await verifyRegistrationResponse({ response: response as unknown as RegistrationResponseJSON, expectedChallenge: challenge, ...expected(request) }).catch(() => null);
    if (!result?.verified) return invalid('The passkey registration did not verify');
    const { credential } = result.registrationInfo;
    const added = await options.store.addCredential({
      id: credential.id,
      userId: claims.sub,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
      createdAt: clock(),
    });
    if (!added) return invalid('This passkey is registered already');
    if (await broker.passkeyChanged('added', claims.sub, sid, credential.id, request, claims.cnf?.jkt ?? null)) {
      // The policy wants a new sign-in: the key added in the session it ended goes with it.
      await options.store.removeCredential(credential.id, claims.sub);
      return sessionEnded();
    }
    return jsonResponse(200, { registered: true });
  }

  async function list(claims: AccessClaims): Promise<BrokerHttpResponse> {
    const passkeys: PasskeyInfo[] = (await options.store.credentialsOf(claims.sub)).map(({ id, createdAt, transports }) => ({ id, createdAt, transports }));
    return jsonResponse(200, { passkeys });
  }

  async function remove(request: BrokerHttpRequest, claims: AccessClaims, sid: string, { id, proof }: PasskeyRemoval): Promise<BrokerHttpResponse> {
    const target = await options.store.credential(id);
    if (target?.userId !== claims.sub) return invalid('This passkey is not registered for this account');
    const refused = await proved(request, claims, sid, proof);
    if (refused) return refused;
    if (!(await options.store.removeCredential(id, claims.sub))) return invalid('This passkey is not registered for this account');
    if (await broker.passkeyChanged('removed', claims.sub, sid, id, request, claims.cnf?.jkt ?? null)) return sessionEnded();
    return jsonResponse(200, { removed: true });
  }

  async function stepUpOptions(claims: AccessClaims, sid: string): Promise<BrokerHttpResponse> {
    const mine = await options.store.credentialsOf(claims.sub);
    if (!mine.length) return errorResponse(400, 'invalid_passkey', 'No passkey is registered for this account: register one first');
    const created = await generateAuthenticationOptions({
      rpID: options.rpID,
      allowCredentials: mine.map((c) => ({ id: c.id, transports: c.transports as never })),
      userVerification: 'required',
    });
    await challenges.put(challengeKey(sid, 'step-up'), created.challenge);
    return jsonResponse(200, { options: created });
  }

  /** Verifies an assertion of one of the account's passkeys against the session's pending step-up challenge; the passkey, or the refusal. */
  async function assertion(request: BrokerHttpRequest, claims: AccessClaims, sid: string, response: AuthenticationResponseJSON): Promise<BrokerHttpResponse | StoredPasskey> {
    // Taken before it is checked: a failed answer spends the challenge too, so each one gets one try.
    const challenge = await challenges.take(challengeKey(sid, 'step-up'));
    if (challenge === null) return invalid('No step-up is pending for this session (expired or already used): ask for new options');
    const stored = await options.store.credential(response.id);
    if (!stored || stored.userId !== claims.sub) return invalid('This passkey is not registered for this account');
    const result = await verifyAuthenticationResponse({ response, expectedChallenge: challenge, credential: toWebAuthnCredential(stored), ...expected(request) }).catch(() => null);
    if (!result?.verified || !result.authenticationInfo.userVerified) return invalid('The passkey assertion did not verify');
    // Compare-and-set: of two assertions checked against the same counter at once, only one counts.
    if (!(await options.store.setCounter(stored.id, stored.counter, result.authenticationInfo.newCounter))) return invalid('Another assertion of this passkey was used at the same time');
    return stored;
  }

  async function stepUp(request: BrokerHttpRequest, claims: AccessClaims, sid: string, response: AuthenticationResponseJSON): Promise<BrokerHttpResponse> {
    const asserted = await assertion(request, claims, sid, response);
    if ('status' in asserted) return asserted;
    // The token ends with its session, as a renewal does: a step-up never extends a sign-in.
    const notAfter = await broker.refreshTokens.liveUntil(sid);
    if (notAfter === null) return errorResponse(401, 'invalid_token', 'The session has ended; sign in again');
    const { sub, cnf, dpop_skew: clockSkew, ...rest } = claims;
    const steppedUp = { ...rest, auth_time: Math.floor(clock() / 1000), acr: PASSKEY_ACR, amr: [...PASSKEY_AMR] };
    const jkt = cnf?.jkt ?? null;
    const token = await broker.accessTokens.issue({ sub, claims: steppedUp }, { jkt, clockSkew, sid, notAfter });
    return jsonResponse(200, { access_token: token, token_type: jkt ? 'DPoP' : 'Bearer', expires_in: broker.accessTokens.ttl });
  }

  async function handle(request: BrokerHttpRequest): Promise<BrokerHttpResponse> {
    const path = rawPath(request);
    const step = path.startsWith(`${prefix}/`) ? (path.slice(prefix.length + 1) as PasskeyStep) : null;
    if (request.method !== 'POST' || step === null || !PASSKEY_STEPS.includes(step)) return errorResponse(404, 'not_found', `No route for ${request.method} ${path}`);
    const violation = csrfViolation(request);
    if (violation) return errorResponse(403, 'csrf', `Refused: ${violation}`);
    // The session's access token (with its DPoP proof when bound): the step-up is of this session.
    const access = await broker.authenticate(request, step === 'register-options' || step === 'register' ? { maxAge: registerMaxAge } : undefined);
    if (!access.ok) return access.response;
    const { claims } = access;
    const sid = claims.sid;
    if (typeof sid !== 'string') return errorResponse(401, 'invalid_token', 'This access token names no session');
    const body = request.body as { response?: unknown } | undefined;
    const response = body && typeof body === 'object' ? body.response : undefined;
    switch (step) {
      case 'register-options':
        return registerOptions(claims, sid);
      case 'step-up-options':
        return stepUpOptions(claims, sid);
      case 'list':
        return list(claims);
      case 'step-up':
        if (!isCeremonyResponse(response, 'signature')) return errorResponse(400, 'bad_request', "The step-up body must be {\"response\": <the browser's authentication response JSON>}");
        return stepUp(request, claims, sid, response as AuthenticationResponseJSON);
      case 'register': {
        const registration = registrationOf(response);
        if (!registration) return errorResponse(400, 'bad_request', 'The register body must be {"response": {"credential": <the browser\'s registration response JSON>, "proof": {"assertion": ...} or {"credentials": ...}}}');
        return register(request, claims, sid, registration);
      }
      case 'remove': {
        const removal = removalOf(response);
        if (!removal) return errorResponse(400, 'bad_request', 'The remove body must be {"response": {"id": <credential id>, "proof": {"assertion": <an authentication response JSON>}}}');
        return remove(request, claims, sid, removal);
      }
    }
  }

  return { paths: PASSKEY_STEPS.map((s) => `${prefix}/${s}`), handle };
}
