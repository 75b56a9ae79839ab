// A map whose entries are forgotten at a deadline, and which never holds more than `max`: the
// security events' memory of devices and failed logins, keyed by what a client sends (usernames,
// families), so its work per call must not grow with what it holds. A Map keeps insertion order
// and a write moves its key to the end, so with deadlines a fixed time after the write the front
// is always the next to expire: each write forgets expired entries from the front only, and at
// the cap the oldest. An entry whose deadline is earlier than its place says is still never read
// past it, and goes by the cap.

export class ExpiringMap<V> {
  constructor(
    private readonly max: number,
    /** Injected only by the tests, to count the entries a call visits. */
    private readonly entries: Map<string, { value: V; until: number }> = new Map(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > now ? entry.value : undefined;
  }

  /** The deadline `key` is kept until, if it is still kept. */
  until(key: string, now: number): number | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > now ? entry.until : undefined;
  }

  set(key: string, value: V, until: number, now: number): void {
    for (const [oldest, entry] of this.entries) {
      if (entry.until > now) break;
      this.entries.delete(oldest);
    }
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
