// One refresh at a time for the whole origin. Inside one worker a single-flight
// promise joins every waiter; across workers (an old and a new version during
// an update) an exclusive lock serialises, and the store is re-read after the
// lock is taken because another worker may already have refreshed.
// Pure: every effect is injected, so the logic is unit-tested in Node.

import { isRejectionStatus, isRetryableStatus, nextRetryDelay, parseRetryAfter, type RetryPolicy } from './retry-policy';

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
  /** The server could not be reached: keep the session. */
  | { kind: 'network' }
  /** 5xx/429 after bounded retries, or another unexpected status: keep the session. */
  | { kind: 'unavailable'; status: number };

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
  refresh(stale: T | null): Promise<RefreshOutcome<T>> {
    this.#inflight ??= this.#deps
      .withLock(() => this.#underLock(stale))
      .finally(() => {
        this.#inflight = null;
      });
    return this.#inflight;
  }

  async #underLock(stale: T | null): Promise<RefreshOutcome<T>> {
    const stored = await this.#deps.readStored();
    if (stored && this.#deps.isFresh(stored) && !(stale && this.#deps.sameToken(stored, stale))) {
      return { kind: 'ok', token: stored, refreshed: false };
    }
    const outcome = await this.#attemptWithRetries();
    await this.#deps.commit(outcome);
    return outcome;
  }

  async #attemptWithRetries(): Promise<RefreshOutcome<T>> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.#deps.attempt();
      if (result.kind === 'ok') return { kind: 'ok', token: result.token, refreshed: true };
      if (result.kind === 'network') return { kind: 'network' };
      const { status } = result;
      if (isRejectionStatus(status)) return { kind: 'rejected', status };
      if (!isRetryableStatus(status)) return { kind: 'unavailable', status };
      const delay = nextRetryDelay(
        this.#deps.policy,
        attempt,
        parseRetryAfter(result.retryAfter, this.#deps.now()),
        this.#deps.random,
      );
      if (delay === null) return { kind: 'unavailable', status };
      await this.#deps.sleep(delay);
    }
  }
}
