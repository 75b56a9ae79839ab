// The broker's state and the operations on it: getting a token for a request,
// refreshing, login, logout, status. Browser glue around the pure modules.

import type { ResolvedConfig } from './config';
import type { DpopSigner, DpopSupport } from './dpop/signer';
import type { DpopKey } from './dpop/proof';
import { postToEndpoint, type EndpointResult } from './endpoint-client';
import { isExpired, needsRefresh } from './expiry';
import { broadcastSession } from './broadcast';
import { DEV } from './dev';
import { withBoundedLock, type LockRequester } from './bounded-lock';
import { SIGNED_OUT, type BrokerReply, type BrokerRequest, type Credentials, type ErrorCode, type PasskeyRequest, type SessionChangeReason } from './protocol';
import { RefreshCoordinator, type AttemptResult, type RefreshOutcome } from './refresh-coordinator';
import { cooldownDelay, DEFAULT_RETRY_POLICY, isRetryableStatus, parseRetryAfter } from './retry-policy';
import { resumeKey, shouldRefreshOnResume } from './resume-refresh';
import { sessionOf } from './session';
import { parseTokenResponse, recordFromToken, type TokenRecord } from './token-response';
import { TokenStore, type PendingLogout } from './token-store';

/** What an API request goes out with. */
export type TokenDecision =
  | { kind: 'token'; token: TokenRecord }
  /** Signed out, or the session just ended: the request goes on without a token. */
  | { kind: 'none' }
  /** `retryAt`: local epoch ms when the worker tries to refresh again (its cool-down). */
  | { kind: 'network'; retryAt?: number }
  | { kind: 'unavailable'; retryAt?: number };

const LOCK_NAME = 'token-broker:refresh';
/** Well under the client's 10 s timeout, well over a refresh's usual hold. */
const LOCK_WAIT_MS = 3_000;
/** How long a logout the server did not take is tried again. */
const LOGOUT_RETRY_MS = 300_000;

function isFresh(token: TokenRecord): boolean {
  return !needsRefresh(token.refreshAt, Date.now());
}

/** An error reply; the production scripts give the code (and the status, where there is one) for its message. */
function fail(code: ErrorCode, message: string | false, status?: number): BrokerReply {
  return { ok: false, error: { code, message: DEV ? (message as string) : status ? `${code} ${status}` : code } };
}

function failForStatus(status: number): BrokerReply {
  const code: ErrorCode = status === 401 ? 'invalid_credentials' : status === 400 ? 'bad_request' : status === 403 ? 'forbidden' : status === 429 ? 'rate_limited' : 'server';
  const why = {
    invalid_credentials: 'the credentials were refused',
    bad_request: 'the server refused the request as malformed',
    forbidden: 'the server forbade the request (check its CSRF/origin rules)',
    rate_limited: 'too many attempts, try again later',
  } as Partial<Record<ErrorCode, string>>;
  return fail(code, DEV && `Login failed: ${why[code] ?? `the server answered ${status}`}`, status);
}

/**
 * What passkey support (sw/passkeys/, an install option) uses of the broker: its public members only, so that the
 * copies of the type in each entry point's declarations are assignable to each other (private members would not be).
 * Declared here, where the broker takes it, so the broker does not import the option it is given.
 */
export type PasskeyHost = Pick<Broker, 'config' | 'dpop' | 'tokenForRequest' | 'adoptSteppedUp' | 'handle'>;

/** Passkey support for installTokenBroker (`passkeySupport` from `token-broker/sw/passkeys`): answers `broker:passkey`. */
export type PasskeySupport = (broker: PasskeyHost, request: PasskeyRequest) => Promise<BrokerReply>;

export class Broker {
  readonly store: TokenStore;
  /**
   * Whatever the config: a token bound to the stored key is sent with proofs
   * even by a worker version with `dpop` off, so versions can share the record.
   * `config.dpop` decides only whether logins and refreshes make keys.
   * Null in a build without DPoP support.
   */
  readonly dpop: DpopSigner | null;
  readonly config: ResolvedConfig;
  readonly #scope: ServiceWorkerGlobalScope;
  readonly #coordinator: RefreshCoordinator<TokenRecord>;
  /** Logins in flight in this worker: one may not have saved yet. */
  #logins = 0;
  /**
   * Logins and logouts of this worker, one at a time in the order they were
   * asked for, each with its server's answer: the user's last action wins. A
   * logout's answer clears the refresh cookie by name, so a login may not be
   * on the wire meanwhile (its new cookie would go), and a logout asked for
   * during a login revokes that login's session. The Web Lock also orders
   * them against refreshes and other versions, but its wait is bounded (page
   * script can hold it); this queue is not, and page script cannot reach it.
   */
  #sessionChanges: Promise<unknown> = Promise.resolve();
  /** The token a resume last started a refresh for: page script may post resume in a loop. */
  #lastResumeFor: string | null = null;
  /** Per API origin (the worker's own and each of `apiOrigins`), the token its last 401 had refreshed. */
  readonly #refreshedFor401 = new Map<string, string>();

  readonly #passkeys: PasskeySupport | undefined;

  constructor(scope: ServiceWorkerGlobalScope, config: ResolvedConfig, dpopSupport?: DpopSupport, passkeys?: PasskeySupport) {
    this.#scope = scope;
    this.#passkeys = passkeys;
    this.config = config;
    this.store = new TokenStore(config.persist);
    this.dpop = dpopSupport ? dpopSupport(this.store.db, () => void this.#endFor('key_replaced')) : null;
    this.#coordinator = new RefreshCoordinator<TokenRecord>({
      withLock: (fn) => this.#withLock(fn),
      readStored: () => this.store.readShared(),
      isFresh,
      sameToken: (a, b) => a.accessToken === b.accessToken,
      attempt: () => this.#attemptRefresh(),
      commit: (o) => this.#commitRefresh(o),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: () => Date.now(),
      random: Math.random,
      policy: DEFAULT_RETRY_POLICY,
    });
    // The worker may have been stopped with a logout still to send.
    void this.#retryLogout(0);
  }

  /** Takes the session and its DPoP key as they are now: the other version may have changed both. */
  async reloadShared(): Promise<void> {
    await Promise.all([this.store.reload(), this.dpop?.reload()]);
  }

  /** The in-memory token when it needs no refresh: the synchronous hot path. */
  freshToken(): TokenRecord | null {
    const t = this.store.current;
    return t && isFresh(t) ? t : null;
  }

  /** A token for an API request, refreshing once first when it is missing or about to expire. */
  async tokenForRequest(): Promise<TokenDecision> {
    await this.store.ready();
    // Signed out here; the other version, during an update, may have signed in since.
    if (!this.store.current && this.store.signedOut) await this.reloadShared();
    const fresh = this.freshToken();
    if (fresh) return { kind: 'token', token: fresh };
    const current = this.store.current;
    if (!current && this.store.signedOut) return { kind: 'none' };
    return this.#decide(await this.#coordinator.refresh(current), current);
  }

  /**
   * After a 401 from `origin` sent with `used`: one refresh unless the token already changed,
   * and none when `used` is the token a 401 from that origin already refreshed for (it refused
   * a token that was new then: one more would not help, and an API that answers 401 to
   * everything would otherwise cost a refresh per request). Its 401 goes to the page.
   */
  async tokenAfterUnauthorized(used: TokenRecord, origin: string): Promise<TokenDecision> {
    const current = this.store.current;
    // The session ended while the request was out: nothing to refresh.
    if (!current && this.store.signedOut) return { kind: 'none' };
    if (current && current.accessToken !== used.accessToken && !isExpired(current.expiresAt, Date.now())) {
      return { kind: 'token', token: current };
    }
    if (this.#refreshedFor401.get(origin) === used.accessToken) return { kind: 'none' };
    // The rejected token is stale whatever its expiry says: refresh even if it looks fresh.
    const outcome = await this.#coordinator.refresh(used);
    if (outcome.kind === 'ok') {
      if (outcome.token.accessToken === used.accessToken) return { kind: 'none' };
      this.#refreshedFor401.set(origin, outcome.token.accessToken);
    }
    return this.#decide(outcome, null);
  }

  /** Takes a token that an API response carried in the renewal header, if it renews `used` and `used` is still the session's. */
  async adoptRenewed(raw: string, used: TokenRecord): Promise<void> {
    // The server renews a token with the same binding as the one it replaces.
    const record = recordFromToken(raw, null, Date.now(), this.config, used.tokenType);
    // The worker cannot verify a signature, so a renewal may only extend the lifetime: the
    // same claims but the time ones, or dropped (an API route must not switch the session or
    // grant itself claims). An answer that arrives after a logout or another login renews a
    // session that is over. Nor may it shorten the lifetime or make it unknown. Opaque tokens
    // cannot be compared.
    if (
      record.binding !== used.binding ||
      this.store.current?.accessToken !== used.accessToken ||
      (used.expiresAt !== null && (record.expiresAt ?? 0) < used.expiresAt)
    ) {
      return;
    }
    await this.store.save(record);
    void this.#broadcast('refresh');
  }

  /**
   * Takes the token a passkey step-up answered with, if it is of the session `used` belongs to
   * (same account, same token type) and that session is still the current one. Not adoptRenewed's
   * claims comparison: a step-up changes acr, amr and auth_time by design.
   */
  async adoptSteppedUp(record: TokenRecord, used: TokenRecord): Promise<boolean> {
    if (this.store.current?.accessToken !== used.accessToken || record.sub !== used.sub || record.tokenType !== used.tokenType) return false;
    await this.store.save(record);
    void this.#broadcast('refresh');
    return true;
  }

  handle(request: BrokerRequest): Promise<BrokerReply> {
    switch (request.type) {
      case 'broker:passkey':
        return this.#passkeys ? this.#passkeys(this, request) : Promise.resolve(fail('bad_request', DEV && 'This worker has no passkey support: register sw-dpop.js, or pass { passkeys: passkeySupport } from token-broker/sw/passkeys'));
      case 'broker:login':
        return this.#login(request.credentials);
      case 'broker:logout':
        return this.#logout();
      case 'broker:status':
        return this.#status();
      case 'broker:refresh':
        return this.#forceRefresh();
      case 'broker:sign-in':
        // Without DPoP the page navigates to the start route itself.
        return this.config.dpop && this.dpop ? this.dpop.signIn(new URL(this.config.endpoints.signIn, this.#scope.location.origin).href, request.returnTo) : Promise.resolve(fail('bad_request', DEV && 'No DPoP key to bind a sign-in to'));
      case 'broker:signed-in':
        // A newer sign-in may have set a cookie since the marker was written: only the server knows.
        return this.#forceRefresh(true);
      case 'broker:resume':
        // The page is back (visible, online): a refresh that is cooling down may be tried at once, once per cool-down.
        this.#coordinator.resume();
        return this.#resume();
      case 'broker:ping':
        return this.#ping();
      case 'broker:claim':
        // clients.claim() resolves once every client in scope is controlled; the
        // page then sees controllerchange without reloading.
        return this.#scope.clients.claim().then(() => this.#status());
    }
  }

  /** Back from sleep or the background: a token within its margin is refreshed before the app's first request. */
  async #resume(): Promise<BrokerReply> {
    await this.store.ready();
    const token = this.store.current;
    if (this.config.refreshOnResume && !this.#coordinator.busy && shouldRefreshOnResume(token, this.store.signedOut, this.#lastResumeFor, Date.now())) {
      this.#lastResumeFor = resumeKey(token);
      // The reply waits for it, so the message's waitUntil keeps the worker alive; requests made meanwhile join it.
      // A failure is the requests' to report. One on the network leaves no cool-down: the page's online event may
      // come before the worker's network is back, and the app's first request must then try at once. The allowance
      // stays spent, so a page looping on resume still gets one refresh per token.
      const outcome = await this.#coordinator.refresh(token).catch(() => null);
      if (outcome?.kind === 'network') this.#coordinator.reset();
    }
    return this.#ping();
  }

  #ping(): Promise<BrokerReply> {
    return this.store.ready().then(() => ({ ok: true, session: sessionOf(this.store.current) }));
  }

  #decide(outcome: RefreshOutcome<TokenRecord>, previous: TokenRecord | null): TokenDecision {
    switch (outcome.kind) {
      case 'ok':
        return { kind: 'token', token: outcome.token };
      case 'rejected':
        return { kind: 'none' };
      case 'network':
      case 'unavailable':
        // A token that is merely close to expiry still works: use it rather than fail.
        if (previous && !isExpired(previous.expiresAt, Date.now())) return { kind: 'token', token: previous };
        return { kind: outcome.kind, retryAt: outcome.retryAt };
    }
  }

  async #login(credentials: Credentials): Promise<BrokerReply> {
    const { endpoints } = this.config;
    this.#logins++;
    const reply = await this.#inTurn(async (): Promise<BrokerReply> => {
      // Every login gets a new key; the old one stays in place until this login succeeds.
      const dpop = this.dpop;
      // config.dpop without DPoP support is refused at install, so dpop is there when asked for.
      const key = dpop && this.config.dpop ? await dpop.create() : null;
      const result = await this.#post(endpoints.login, credentials, key);
      if (result.kind === 'network') return fail('network', DEV && `Could not reach ${endpoints.login}: check the connection`);
      if (!result.response.ok) return failForStatus(result.response.status);
      const record = parseTokenResponse(result.body, this.config, Date.now());
      if (!record) return fail('server', DEV && `The login response had none of the fields ${this.config.fields.accessToken.join(', ')}`);
      // The key first: a token bound to a key the worker lost would be useless.
      if (key) await dpop!.adopt(key);
      else await dpop?.drop();
      await this.store.save(record);
      this.#coordinator.reset();
      return { ok: true, session: sessionOf(record) };
    }).finally(() => this.#logins--);
    if (reply.ok) void this.#broadcast('login');
    return reply;
  }

  /**
   * Answered once the server answered the logout (or it failed, and waits for
   * its retry): a page that signs out and then leaves may count on the
   * revocation. After a login asked for before it, which it ends.
   */
  async #logout(): Promise<BrokerReply> {
    const logoutUrl = await this.#inTurn(async () => this.#sendLogout(await this.#end({}), 0));
    void this.#broadcast('logout');
    return { ok: true, session: typeof logoutUrl == 'string' ? { ...SIGNED_OUT, logoutUrl } : SIGNED_OUT };
  }

  /**
   * Ends the session here; the caller sends the logout, which has the server
   * revoke the family of the cookie the browser holds then and clear it. The
   * local session ends first, whatever the server does; the signed-out marker
   * stops a silent restore with a cookie the server may not have revoked.
   */
  async #end(body: object): Promise<PendingLogout> {
    await this.store.ready();
    const pending = { body, until: Date.now() + LOGOUT_RETRY_MS };
    await this.store.clear(true, pending);
    await this.dpop?.drop();
    return pending;
  }

  /**
   * A network error, 5xx or 429 leaves the family live and its cookie in the
   * browser: the logout stays beside the signed-out marker (so a worker stop
   * does not lose it) and is tried again after a cool-down, until the server
   * takes it (any other status) or `until`.
   */
  async #sendLogout(pending: PendingLogout, failures: number): Promise<unknown> {
    const result = await postToEndpoint(this.config.endpoints.logout, pending.body);
    const response = result.kind === 'response' ? result.response : null;
    // The provider's logout URL (token-handler mode), for the page to navigate to if it wants.
    if (response && !isRetryableStatus(response.status)) return this.store.settleLogout(pending).then(() => (result as { body?: { logoutUrl?: unknown } }).body?.logoutUrl);
    this.#retryLater(failures + 1, response && parseRetryAfter(response.headers.get('retry-after'), Date.now()));
  }

  #retryLater(failures: number, retryAfter: number | null): void {
    setTimeout(() => void this.#retryLogout(failures), cooldownDelay(DEFAULT_RETRY_POLICY, failures, retryAfter, Math.random));
  }

  /**
   * Under the lock, and only while the record still holds the logout: a login
   * since (in any worker version) replaced it, and the cookie the browser sends
   * now is the new session's, which the logout would revoke. While a login of
   * this worker is in flight (it may not have saved yet; the lock's wait is
   * bounded) it waits; a login that failed leaves the logout to be sent.
   * Page script can write the record, so only what #end writes is taken.
   */
  #retryLogout(failures: number): Promise<void> {
    return this.#inTurn(async () => {
      if (this.#logins) return this.#retryLater(failures, null);
      const pending = await this.store.pendingLogout();
      const body = pending?.body as { reason?: unknown } | undefined;
      const left = pending ? pending.until - Date.now() : 0;
      if (
        left > 0 &&
        left <= LOGOUT_RETRY_MS &&
        body &&
        typeof body === 'object' &&
        Object.keys(body).length === (body.reason === undefined ? 0 : 1) &&
        [undefined, 'account_changed', 'key_replaced'].includes(body.reason as string)
      ) {
        await this.#sendLogout(pending!, failures);
      }
    });
  }

  /**
   * The worker's own sign-out, for a reason every tab and the server are told.
   * Called under the lock, or within a login's turn: the logout goes in its own
   * turn after it, as a retry does, and only while the record still holds it.
   */
  async #endFor(reason: 'account_changed' | 'key_replaced'): Promise<void> {
    await this.#end({ reason });
    void this.#broadcast(reason);
    void this.#retryLogout(0);
  }

  async #status(): Promise<BrokerReply> {
    const decision = await this.tokenForRequest();
    switch (decision.kind) {
      case 'token':
        return { ok: true, session: sessionOf(decision.token) };
      case 'none':
        return { ok: true, session: SIGNED_OUT };
      default: {
        const current = this.store.current;
        if (current) return { ok: true, session: sessionOf(current) };
        return decision.kind === 'network'
          ? fail('network', DEV && 'Could not reach the refresh endpoint to restore the session')
          : fail('unavailable', DEV && 'The refresh endpoint is unavailable; try again later');
      }
    }
  }

  async #forceRefresh(hinted?: boolean): Promise<BrokerReply> {
    await this.store.ready();
    const current = this.store.current;
    if (!current && this.store.signedOut) {
      if (!hinted) return fail('not_authenticated', DEV && 'Not signed in');
      // A logout the server has not taken yet: the cookie may still be the family signed out of,
      // and a forged marker would restore it. Sending the logout now instead would revoke a new
      // redirect sign-in's family just as well, so the hint waits for the retries to end.
      if (((await this.store.pendingLogout())?.until ?? 0) > Date.now()) return { ok: true, session: SIGNED_OUT };
    }
    // Asked for by the page: tried now, whatever the cool-down.
    const outcome = await this.#coordinator.refresh(current, { force: true });
    switch (outcome.kind) {
      case 'ok':
        return { ok: true, session: sessionOf(outcome.token) };
      case 'rejected':
        return fail('not_authenticated', DEV && 'The session has ended; sign in again');
      case 'network':
        return fail('network', DEV && 'Could not reach the refresh endpoint');
      case 'unavailable':
        return fail('unavailable', DEV && `The refresh endpoint is unavailable (status ${outcome.status})`, outcome.status);
    }
  }

  async #attemptRefresh(): Promise<AttemptResult<TokenRecord>> {
    // Under the lock: another worker version may have signed in with a new key since this one read it.
    const dpop = this.dpop;
    await dpop?.reload();
    // With dpop off, a stored key still signs: the login may have been made by a version that had it on.
    const key = dpop && (this.config.dpop ? await dpop.ensure() : await dpop.current());
    const result = await this.#post(this.config.endpoints.refresh, {}, key);
    if (result.kind === 'network') return result;
    const { response } = result;
    if (!response.ok) return { kind: 'status', status: response.status, retryAfter: response.headers.get('retry-after') };
    const record = parseTokenResponse(result.body, this.config, Date.now());
    // A 200 without a token is a broken backend, not a reason to sign the user out.
    if (!record) return { kind: 'status', status: 502, retryAfter: '3600' };
    // Only the page's login() may switch accounts: a refresh that answers for another one
    // used a cookie someone else planted (a sibling subdomain can). The session ends, the
    // planted family is revoked, and the request goes on without a token.
    const held = await this.store.heldSub();
    if (held !== undefined && record.sub !== held) {
      await this.#endFor('account_changed');
      return { kind: 'status', status: 401, retryAfter: null };
    }
    return { kind: 'ok', token: record };
  }

  async #commitRefresh(outcome: RefreshOutcome<TokenRecord>): Promise<void> {
    if (outcome.kind === 'ok') {
      await this.store.save(outcome.token);
      void this.#broadcast('refresh');
      // Signed out already: the account-switch check ended the session, and its logout may be waiting for a retry.
    } else if (outcome.kind === 'rejected' && !this.store.signedOut) {
      const hadSession = this.store.current !== null;
      await this.store.clear(true);
      await this.dpop?.drop();
      if (hadSession) void this.#broadcast('expired');
    }
  }

  /** A token endpoint call, with a DPoP proof of `key` when there is one. */
  #post(path: string, body: unknown, key: DpopKey | null): Promise<EndpointResult> {
    return key && this.dpop ? this.dpop.post(new URL(path, this.#scope.location.origin).href, body, key) : postToEndpoint(path, body);
  }

  /** A login or logout: in this worker's queue, then under the Web Lock. */
  #inTurn<R>(fn: () => Promise<R>): Promise<R> {
    const turn = this.#sessionChanges.then(() => this.#withLock(fn));
    this.#sessionChanges = turn.catch(() => undefined);
    return turn;
  }

  #withLock<R>(fn: () => Promise<R>): Promise<R> {
    // Without Web Locks (old browsers) the single-flight promise still serialises within one worker.
    const locks = (this.#scope.navigator as WorkerNavigator & { locks?: LockRequester }).locks;
    return withBoundedLock(locks, LOCK_NAME, LOCK_WAIT_MS, fn);
  }

  async #broadcast(reason: SessionChangeReason): Promise<void> {
    try {
      await broadcastSession(this.#scope, reason, sessionOf(this.store.current));
    } catch (err) {
      if (DEV) console.warn('[token-broker] broadcast failed', err);
    }
  }
}
