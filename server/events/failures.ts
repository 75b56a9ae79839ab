// Wrong credentials per account key within a window: the event fires once, when the count
// reaches the threshold, not on each failure after (a guessing run is one incident, not a flood).
import { MAX_REMEMBERED } from './devices';
import { ExpiringMap } from './expiring-map';

export class LoginFailures {
  private readonly counts: ExpiringMap<number>;

  constructor(
    readonly threshold: number,
    private readonly windowMs = 60_000,
    max = MAX_REMEMBERED,
  ) {
    this.counts = new ExpiringMap(max);
  }

  /** Counts a failure; the count when this one reached the threshold, else null. */
  fail(account: string, now: number): number | null {
    const count = (this.counts.get(account, now) ?? 0) + 1;
    // The window runs from the run's first failure.
    this.counts.set(account, count, this.counts.until(account, now) ?? now + this.windowMs, now);
    return count === this.threshold ? count : null;
  }

  /** A successful sign-in ends the run. */
  succeed(account: string): void {
    this.counts.delete(account);
  }
}
