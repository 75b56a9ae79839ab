// Bounded retries for a refresh endpoint that answers 5xx or 429: exponential
// backoff with equal jitter (half fixed, half random), honouring Retry-After within a ceiling.

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 4000 };

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
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Statuses from the refresh endpoint that mean the session is over. */
export function isRejectionStatus(status: number): boolean {
  return status === 400 || status === 401 || status === 403;
}
