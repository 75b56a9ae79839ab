// Bounded retries for a refresh endpoint that answers 5xx or 429: exponential
// backoff with equal jitter (half fixed, half random), honouring Retry-After within a ceiling.
// Across refreshes, a cool-down after each one that gave up: without it every API
// request of every tab would start a new refresh for as long as an outage lasts.

export interface RetryPolicy {
  /** Total attempts including the first, in the first refresh of an outage (later ones make one). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The cool-down after the first refresh that gave up; it doubles with each one after it. */
  cooldownBaseMs: number;
  cooldownMaxMs: number;
  /** How far a Retry-After may push the cool-down. */
  retryAfterMaxMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  cooldownBaseMs: 3000,
  cooldownMaxMs: 30_000,
  retryAfterMaxMs: 300_000,
};

/** Between half of `ceiling` and all of it. */
function equalJitter(ceiling: number, random: () => number): number {
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After as milliseconds from `now` (delta-seconds or HTTP-date), or null if absent/invalid. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1), or null when the
 * policy says stop: out of attempts, or the server asks for a wait longer than
 * we are willing to hold a page's request for.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs: number | null,
  random: () => number,
): number | null {
  if (attempt >= policy.maxAttempts) return null;
  if (retryAfterMs !== null) return retryAfterMs > policy.maxDelayMs ? null : retryAfterMs;
  return equalJitter(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)), random);
}

/**
 * How long no refresh is tried after the `failures`-th refresh in a row gave
 * up: doubling from `cooldownBaseMs` up to `cooldownMaxMs`, jittered so that
 * browsers do not return in step, and at least what Retry-After asked for
 * (within `retryAfterMaxMs`).
 */
export function cooldownDelay(policy: RetryPolicy, failures: number, retryAfterMs: number | null, random: () => number): number {
  const backoff = equalJitter(Math.min(policy.cooldownMaxMs, policy.cooldownBaseMs * 2 ** (failures - 1)), random);
  return retryAfterMs === null ? backoff : Math.min(Math.max(backoff, retryAfterMs), policy.retryAfterMaxMs);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Statuses from the refresh endpoint that mean the session is over. */
export function isRejectionStatus(status: number): boolean {
  return status === 400 || status === 401 || status === 403;
}
