// Wrong credentials per account key within a window: the event fires once, when the count
// reaches the threshold, not on each failure after (a guessing run is one incident, not a flood).
export class LoginFailures {
  private readonly counts = new Map<string, { count: number; until: number }>();

  constructor(
    readonly threshold: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts a failure; the count when this one reached the threshold, else null. */
  fail(account: string, now: number): number | null {
    for (const [key, entry] of this.counts) if (entry.until <= now) this.counts.delete(key);
    const entry = this.counts.get(account) ?? { count: 0, until: now + this.windowMs };
    entry.count++;
    this.counts.set(account, entry);
    return entry.count === this.threshold ? entry.count : null;
  }

  /** A successful sign-in ends the run. */
  succeed(account: string): void {
    this.counts.delete(account);
  }
}
