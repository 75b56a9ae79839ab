// The one lease on a family's provider tokens: whoever holds it may spend the
// refresh token, or read the record knowing no refresh is spending it. An
// upstream refresh holds it across its call to the provider; a logout takes it
// before it reads the record, so that it revokes the refresh token the family
// has after any refresh in flight, not the one that refresh just spent.
import type { TokenBrokerServer } from '../core/token-broker';

export type UpstreamRecords = NonNullable<TokenBrokerServer['upstreamRecords']>;

/** How long one holder may keep the lease before another may take it; above openid-client's wait for an answer. */
export const LEASE_MS = 15_000;
/** Between looks at the store while another holds it. */
export const POLL_MS = 50;

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The lease for a logout: taken once the holder (a refresh) lets go, or once its lease ran out.
 * False when the family has no record left (nothing to revoke at the provider).
 */
export async function leaseForLogout(records: UpstreamRecords, familyId: string, holder: string, clock: () => number): Promise<boolean> {
  const deadline = clock() + LEASE_MS + POLL_MS;
  for (;;) {
    if (await records.lease(familyId, holder, LEASE_MS)) return true;
    // A lease is refused for a family without a record too: then there is nothing to wait for.
    if ((await records.read(familyId)) === null || clock() > deadline) return false;
    await pause(POLL_MS);
  }
}
