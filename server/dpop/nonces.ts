// Server-issued DPoP nonces (RFC 9449 section 8), stateless: a nonce is an
// HMAC of the current time slot, so any instance with the same secret issues
// and accepts the same nonces without storing them. A nonce stays valid for
// the slot it was issued in and the next, so one issued just before a slot
// boundary still works for at least one slot.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class DpopNonces {
  constructor(
    private readonly secret: Buffer = randomBytes(32),
    /** A nonce is accepted in the slot it was issued in and the next: up to twice this. */
    readonly slotMs = 60_000,
  ) {}

  /** Several instances must agree: derived from the shared refresh secret when there is one. */
  static fromSecret(refreshSecret: Buffer | undefined, slotMs?: number): DpopNonces {
    const secret = refreshSecret ? createHmac('sha256', refreshSecret).update('dpop-nonce').digest() : undefined;
    return new DpopNonces(secret, slotMs);
  }

  /** The nonces of the last slots asked for: every response names the current one. */
  private readonly recent = new Map<number, string>();

  private forSlot(slot: number): string {
    let nonce = this.recent.get(slot);
    if (nonce === undefined) {
      nonce = createHmac('sha256', this.secret).update(String(slot)).digest('base64url');
      this.recent.set(slot, nonce);
      if (this.recent.size > 4) this.recent.delete(this.recent.keys().next().value!);
    }
    return nonce;
  }

  current(now = Date.now()): string {
    return this.forSlot(Math.floor(now / this.slotMs));
  }

  isValid(nonce: unknown, now = Date.now()): boolean {
    if (typeof nonce !== 'string') return false;
    const slot = Math.floor(now / this.slotMs);
    const given = Buffer.from(nonce);
    return [slot, slot - 1].some((s) => {
      const expected = Buffer.from(this.forSlot(s));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  }
}
