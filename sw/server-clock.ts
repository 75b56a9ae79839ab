// The server's clock as its responses tell it (the Date header), so DPoP
// proofs are stamped with the time the server checks them against: the server
// refuses an iat outside its window even with a nonce, and a device whose
// clock is off by hours must still sign in. Pure: unit-tested in Node.

export class ServerClock {
  #offsetMs = 0;

  /** Takes the Date header of a response received at local time `receivedAt`. */
  observe(date: string | null, receivedAt = Date.now()): void {
    const server = date ? Date.parse(date) : NaN;
    if (Number.isNaN(server)) return;
    // Date has whole seconds: within a second of the local clock, trust the local one.
    const offset = server - receivedAt;
    this.#offsetMs = Math.abs(offset) > 1_500 ? offset : 0;
  }

  now(local = Date.now()): number {
    return local + this.#offsetMs;
  }
}
