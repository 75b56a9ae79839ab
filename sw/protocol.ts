// The page <-> worker protocol, written once. The worker and the client both
// import these types; nothing here may touch DOM or worker globals, so the file
// type-checks under either lib.

/** Every message type lives under this prefix so a worker shared with other
 * libraries can tell our messages from theirs and ignore the rest. */
export const MESSAGE_PREFIX = 'broker:';

export const MessageType = {
  login: 'broker:login',
  logout: 'broker:logout',
  status: 'broker:status',
  refresh: 'broker:refresh',
  /** From a page the worker does not control (after a hard reload): take control of it. */
  claim: 'broker:claim',
  /** The session as the worker knows it now, without a refresh: the client's check that the worker started. */
  ping: 'broker:ping',
  /** The page is visible or back online: end the refresh cool-down, then as ping. */
  resume: 'broker:resume',
  /** A step of a passkey ceremony (`PasskeyRequest`): the worker calls the server's passkey endpoint with the session's token. */
  passkey: 'broker:passkey',
  /**
   * The page came back from a redirect sign-in (`?broker_signin` on its URL): ask the server,
   * whatever the signed-out marker says. Any page script or link can send it, so it only makes
   * the worker refresh with the HttpOnly cookie, as a first visit does; it grants nothing.
   */
  signedIn: 'broker:signed-in',
  /**
   * Start a redirect sign-in bound to the worker's DPoP key: the worker posts `returnTo` to
   * its `endpoints.signIn` with a proof and answers the `location` to navigate to. A worker
   * without DPoP answers `bad_request`, and the page navigates to the start route itself.
   */
  signIn: 'broker:sign-in',
  /** Worker -> page broadcast of a session change. */
  session: 'broker:session',
} as const;

/** Stable error codes. Pages branch on these; messages are for humans. */
export type ErrorCode =
  | 'invalid_credentials'
  | 'not_authenticated'
  | 'bad_request'
  | 'network'
  | 'server'
  | 'rate_limited'
  | 'forbidden'
  | 'endpoint_reserved'
  /** An API response to a request that carried the token redirected: not followed. */
  | 'redirect_refused'
  /** A POST or PATCH the browser handed to a restarted worker after the stopped one had sent it: not sent again. */
  | 'outcome_unknown'
  | 'unavailable'
  | 'bad_config'
  /** A passkey registration or assertion the server did not verify (tampered, for another or a used challenge, unknown passkey). */
  | 'invalid_passkey'
  | 'internal';

export interface BrokerError {
  code: ErrorCode;
  message: string;
}

/**
 * What a page may know about the session. Never a token. `C` describes the
 * claims the worker's `exposeClaims` lets through; each may be absent (signed
 * out, or a token without it), hence `Partial`.
 */
export interface Session<C extends Record<string, unknown> = Record<string, unknown>> {
  authenticated: boolean;
  /** Only the claims listed in `exposeClaims`. Empty when signed out. */
  claims: Partial<C>;
  /** Local epoch milliseconds at which the access token expires, or null. */
  expiresAt: number | null;
  /**
   * Only in `logout()`'s answer, in token-handler mode: the provider's RP-initiated logout
   * URL, which the page may navigate to so the provider's own session ends too.
   */
  logoutUrl?: string;
}

export type Credentials = Record<string, unknown>;

export interface LoginRequest {
  type: typeof MessageType.login;
  credentials: Credentials;
}
export interface LogoutRequest {
  type: typeof MessageType.logout;
}
export interface StatusRequest {
  type: typeof MessageType.status;
}
export interface RefreshRequest {
  type: typeof MessageType.refresh;
}
export interface ClaimRequest {
  type: typeof MessageType.claim;
}
export interface PingRequest {
  type: typeof MessageType.ping;
}
export interface ResumeRequest {
  type: typeof MessageType.resume;
}

/**
 * The steps of the passkey calls, each the name of its endpoint under the worker's `endpoints.passkey`
 * (and the server's `path`): options for a registration, the registration (`PasskeyRegistration`);
 * options for a step-up, the assertion that answers them; the account's passkeys; a removal (`PasskeyRemoval`).
 */
export const PASSKEY_STEPS = ['register-options', 'register', 'step-up-options', 'step-up', 'list', 'remove'] as const;
export type PasskeyStep = (typeof PASSKEY_STEPS)[number];

/**
 * Who is adding or removing a passkey, proved again inside the session: an assertion of one of the
 * account's passkeys, answering the session's step-up options; or, for an account without one, the
 * password (the credentials as login takes them).
 */
export type PasskeyProof = { assertion: Record<string, unknown> } | { credentials: Record<string, unknown> };
/** The `response` of `register`: the browser's registration response JSON and the proof. */
export interface PasskeyRegistration {
  credential: Record<string, unknown>;
  proof: PasskeyProof;
}
/** The `response` of `remove`: the passkey's id and an assertion of one of the account's passkeys. */
export interface PasskeyRemoval {
  id: string;
  proof: { assertion: Record<string, unknown> };
}
/** One of the account's passkeys, as `list` answers: its credential id, when it was added (ms), its transports. */
export interface PasskeyInfo {
  id: string;
  createdAt: number;
  transports: string[];
}

/** As the worker's message validation passes it on: the passkey support checks `step` and `response` itself. */
export interface PasskeyRequest {
  type: typeof MessageType.passkey;
  step: PasskeyStep;
  /** With `step-up`: the browser's response JSON (from @simplewebauthn/browser); with `register` and `remove`, `PasskeyRegistration` and `PasskeyRemoval`. */
  response?: Record<string, unknown>;
}

/** The `acr` of a token stepped up with a passkey: phishing-resistant (OpenID EAP ACR values). */
export const PASSKEY_ACR = 'phr';
/** Its `amr` (RFC 8176): a hardware-held key, with the user's verification. */
export const PASSKEY_AMR = ['hwk', 'user'] as const;

export interface SignedInRequest {
  type: typeof MessageType.signedIn;
}

export interface SignInRequest {
  type: typeof MessageType.signIn;
  returnTo: string;
}
export type BrokerRequest = SignInRequest | SignedInRequest | LoginRequest | LogoutRequest | StatusRequest | RefreshRequest | ClaimRequest | PingRequest | ResumeRequest | PasskeyRequest;

export type BrokerReply =
  | { ok: true; session: Session }
  /** The options step of a passkey ceremony: what `navigator.credentials` is to be called with. */
  | { ok: true; options: Record<string, unknown> }
  /** The passkey `list` step: the account's passkeys. */
  | { ok: true; passkeys: PasskeyInfo[] }
  /** `broker:sign-in`: where the page goes next (the provider, or back with `broker_error`). */
  | { ok: true; location: string }
  | { ok: false; error: BrokerError };

/**
 * Why the session changed; carried by every broadcast. The worker ends the
 * session itself with `account_changed` when a refresh answered for another
 * account than the one signed in (a refresh cookie someone else planted), and
 * with `key_replaced` when the stored DPoP key is not one it made (its private
 * half can be exported). Both sign the user out everywhere: sign in again.
 */
export type SessionChangeReason = 'login' | 'logout' | 'refresh' | 'expired' | 'account_changed' | 'key_replaced';

export interface SessionBroadcast {
  type: typeof MessageType.session;
  reason: SessionChangeReason;
  session: Session;
}

export const SIGNED_OUT: Session = Object.freeze({
  authenticated: false,
  claims: Object.freeze({}) as Record<string, unknown>,
  expiresAt: null,
}) as Session;

/** The JSON body of an error response that the worker itself produces (for
 * example, when a page calls a token endpoint directly). */
export interface WorkerErrorBody {
  error: BrokerError;
}

/** Header the worker sends on every call to a token endpoint. A static custom
 * header forces a CORS preflight cross-origin, so the server can refuse any
 * request that lacks it (CSRF defence on the cookie endpoints). */
export const WORKER_REQUEST_HEADER = 'x-token-broker';

/**
 * RFC 9470: what an API route asked of the sign-in behind a token it refused with
 * `insufficient_user_authentication`. Read by the worker from the challenge, handed to the page.
 */
export interface StepUpRequirement {
  /** Seconds: the sign-in must be at most this old. */
  maxAge?: number;
  /** Authentication context classes the route accepts, any one of them. */
  acrValues?: string[];
}

/** The `error` of an RFC 9470 challenge. */
export const INSUFFICIENT_USER_AUTHENTICATION = 'insufficient_user_authentication';

/**
 * Response header the worker adds to an API's `insufficient_user_authentication` answer:
 * the route's `StepUpRequirement` as JSON. The client's `stepUpRequirement(response)` reads it.
 */
export const STEP_UP_HEADER = 'x-token-broker-step-up';

/** On the redirect back from a sign-in (token-broker/server/oidc): the hint the client hands its worker. */
export const SIGN_IN_PARAM = 'broker_signin';
/** On the redirect back from a failed sign-in: the stable code (README, "Redirect sign-in"). */
export const SIGN_IN_ERROR_PARAM = 'broker_error';
