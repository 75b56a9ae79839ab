// One refresh at a time for the whole origin. Inside one worker a single-flight
// promise joins every waiter; across workers (an old and a new version during
// an update) an exclusive lock serialises, and the store is re-read after the
// lock is taken because another worker may already have refreshed. After a
// refresh that gave up (network, 5xx, 429), none is tried for a cool-down that
// grows with each failure in a row: callers get the failure at once meanwhile.
// Pure: every effect is injected, so the logic is unit-tested in Node.

import { cooldownDelay, isRejectionStatus, isRetryableStatus, nextRetryDelay, parseRetryAfter, type RetryPolicy } from './retry-policy';

/** One attempt at the refresh endpoint, as the coordinator needs to see it. */
export type AttemptResult<T> =
  | { kind: 'ok'; token: T }
  | { kind: 'status'; status: number; retryAfter: string | null }
  | { kind: 'network' };

export type RefreshOutcome<T> =
  /** `refreshed` is false when another worker had already refreshed. */
  | { kind: 'ok'; token: T; refreshed: boolean }
  /** 400/401/403: the refresh token is no good; the session is over. */
  | { kind: 'rejected'; status: number }
  /** The server could not be reached: keep the session. `retryAt`: local epoch ms of the next try. */
  | { kind: 'network'; retryAt?: number }
  /** 5xx/429 after bounded retries, or another unexpected status: keep the session. */
  | { kind: 'unavailable'; status: number; retryAt?: number };

type Failure<T> = Extract<RefreshOutcome<T>, { kind: 'network' | 'unavailable' }>;

export interface RefreshDeps<T> {
  withLock<R>(fn: () => Promise<R>): Promise<R>;
  /** The token the shared store holds now. */
  readStored(): Promise<T | null>;
  /** Whether a token is good enough that a waiter may use it instead of refreshing. */
  isFresh(token: T): boolean;
  sameToken(a: T, b: T): boolean;
  attempt(): Promise<AttemptResult<T>>;
  /** Called inside the lock, so the next worker to take it sees the result. */
  commit(outcome: RefreshOutcome<T>): Promise<void>;
  sleep(ms: number): Promise<void>;
  now(): number;
  random(): number;
  policy: RetryPolicy;
}

export class RefreshCoordinator<T> {
  #inflight: Promise<RefreshOutcome<T>> | null = null;
  /** Refreshes in a row that gave up; a success or a rejection ends the run. */
  #failures = 0;
  /** The last failure, with the end of its cool-down. */
  #cooling: (Failure<T> & { retryAt: number }) | null = null;
  /** Whether a resume may end this cool-down: false when a resume's early try started it. */
  #resumable = false;

  readonly #deps: RefreshDeps<T>;

  constructor(deps: RefreshDeps<T>) {
    this.#deps = deps;
  }

  get busy(): boolean {
    return this.#inflight !== null;
  }

  /**
   * Refreshes unless someone else already replaced `stale`. Pass the token the
   * caller saw as no longer good (null when it had none); a forced refresh
   * passes the current token so that an equal stored token does not count.
   */
  refresh(stale: T | null, { force = false }: { force?: boolean } = {}): Promise<RefreshOutcome<T>> {
    const cooling = this.#cooling;
    if (!this.#inflight && !force && cooling && this.#deps.now() < cooling.retryAt) return this.#whileCooling(stale, cooling);
    this.#inflight ??= this.#deps
      .withLock(() => this.#underLock(stale))
      .finally(() => {
        this.#inflight = null;
      });
    return this.#inflight;
  }

  /** Ends a cool-down: the page asked (a forced refresh, a login). */
  reset(): void {
    this.#failures = 0;
    this.#cooling = null;
    this.#resumable = false;
  }

  /**
   * Back online or visible: the cool-down ends now, but only one that a refresh at its due time
   * started. The early try it allows, if it fails, starts one (longer: the run of failures goes on)
   * that no resume ends, so page script or a flapping network posting resume in a loop during an
   * outage costs at most one more attempt per cool-down step.
   */
  resume(): void {
    if (this.#resumable) this.#cooling = null;
    this.#resumable = false;
  }

  /** Another worker (the other version during an update) may have refreshed meanwhile. */
  async #whileCooling(stale: T | null, cooling: Failure<T>): Promise<RefreshOutcome<T>> {
    return (await this.#storedIfNewer(stale)) ?? cooling;
  }

  async #storedIfNewer(stale: T | null): Promise<RefreshOutcome<T> | null> {
    const stored = await this.#deps.readStored();
    return stored && this.#deps.isFresh(stored) && !(stale && this.#deps.sameToken(stored, stale)) ? { kind: 'ok', token: stored, refreshed: false } : null;
  }

  async #underLock(stale: T | null): Promise<RefreshOutcome<T>> {
    const stored = await this.#storedIfNewer(stale);
    if (stored) return stored;
    const [outcome, retryAfterMs] = await this.#attemptWithRetries();
    if (outcome.kind === 'ok' || outcome.kind === 'rejected') {
      this.reset();
    } else {
      // No cool-down and failures in a row: a resume ended the last one early.
      this.#resumable = this.#cooling !== null || this.#failures === 0;
      const retryAt = this.#deps.now() + cooldownDelay(this.#deps.policy, ++this.#failures, retryAfterMs, this.#deps.random);
      this.#cooling = { ...outcome, retryAt };
    }
    await this.#deps.commit(outcome);
    return this.#cooling ?? outcome;
  }

  /** The outcome, and the last Retry-After (ms) the server asked for. */
  async #attemptWithRetries(): Promise<[RefreshOutcome<T>, number | null]> {
    const { policy, now, random } = this.#deps;
    // Within an outage every refresh makes one attempt: the cool-down spaces them.
    const attempts = this.#failures > 0 ? 1 : policy.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      const result = await this.#deps.attempt();
      if (result.kind === 'ok') return [{ kind: 'ok', token: result.token, refreshed: true }, null];
      if (result.kind === 'network') return [{ kind: 'network' }, null];
      const { status } = result;
      if (isRejectionStatus(status)) return [{ kind: 'rejected', status }, null];
      const retryAfterMs = parseRetryAfter(result.retryAfter, now());
      if (!isRetryableStatus(status)) return [{ kind: 'unavailable', status }, retryAfterMs];
      const delay = nextRetryDelay({ ...policy, maxAttempts: attempts }, attempt, retryAfterMs, random);
      if (delay === null) return [{ kind: 'unavailable', status }, retryAfterMs];
      await this.#deps.sleep(delay);
    }
  }
}
