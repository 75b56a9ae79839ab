// The provider's access token of a family, refreshed upstream when it is due,
// once per family however many refreshes ask at once: a promise per family in
// this process, and the store's lease across instances, since a provider that
// rotates refresh tokens may take a second use of one as theft and end the grant.
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { BackingUnavailable } from '../core/backing';
import { UPSTREAM_ENDED, UPSTREAM_UNREADABLE, type UpstreamGrant } from '../core/upstream-session';
import { revokeAtProvider } from './provider-revocation';
import { LEASE_MS, pause, POLL_MS, type UpstreamRecords } from './upstream-lease';
import type { UpstreamRecord, UpstreamSeal } from './upstream-seal';

/** A provider that names no lifetime (`expires_in` is optional) and whose token is no JWT: its token is kept this long. */
const UNNAMED_LIFETIME_SECONDS = 300;
/** Tries of the write of a successor the provider just handed out, within the lease. */
const RELEASE_TRIES = 3;

export type ProviderGrant = UpstreamGrant | null | typeof UPSTREAM_ENDED | typeof UPSTREAM_UNREADABLE;

export function recordFromTokens(tokens: oidc.TokenEndpointResponse, now: number, previous?: UpstreamRecord): UpstreamRecord {
  return {
    accessToken: tokens.access_token,
    tokenType: tokens.token_type ?? 'Bearer',
    expiresAt: now + lifetimeOf(tokens, now) * 1000,
    // A provider that does not rotate answers without one: the old one stays good.
    ...((tokens.refresh_token ?? previous?.refreshToken) ? { refreshToken: tokens.refresh_token ?? previous!.refreshToken! } : {}),
    ...((tokens.id_token ?? previous?.idToken) ? { idToken: tokens.id_token ?? previous!.idToken! } : {}),
  };
}

/** Seconds: the provider's `expires_in`; else the JWT's own `exp`; else a fixed lifetime, not "always due". */
function lifetimeOf(tokens: oidc.TokenEndpointResponse, now: number): number {
  if (typeof tokens.expires_in === 'number') return tokens.expires_in;
  try {
    const { exp } = decodeJwt(tokens.access_token);
    if (typeof exp === 'number') return Math.max(0, exp - Math.floor(now / 1000));
  } catch {
    // An opaque token: nothing in it to read.
  }
  return UNNAMED_LIFETIME_SECONDS;
}

export class ProviderTokens {
  private readonly inFlight = new Map<string, Promise<ProviderGrant>>();

  constructor(
    private readonly records: UpstreamRecords,
    private readonly seal: UpstreamSeal,
    private readonly config: () => Promise<oidc.Configuration>,
    private readonly clock: () => number,
    /** Seconds before the provider's expiry at which its token is refreshed: more than the worker's refreshBeforeExpiry. */
    private readonly marginSeconds: number,
  ) {}

  grant(familyId: string): Promise<ProviderGrant> {
    let pending = this.inFlight.get(familyId);
    if (!pending) {
      pending = this.fresh(familyId).finally(() => this.inFlight.delete(familyId));
      this.inFlight.set(familyId, pending);
    }
    return pending;
  }

  private answer(record: UpstreamRecord): UpstreamGrant | null {
    const expiresIn = Math.floor((record.expiresAt - this.clock()) / 1000);
    return expiresIn > this.marginSeconds ? { accessToken: record.accessToken, tokenType: record.tokenType, expiresIn } : null;
  }

  /**
   * The family's record: none for a password login's family (a local token), unreadable for one sealed
   * with a key no longer listed. A local token would be the wrong kind for an API that expects the
   * provider's, and the server can no longer act at the provider for it: that session ends.
   */
  private async current(familyId: string): Promise<UpstreamRecord | null | typeof UPSTREAM_UNREADABLE> {
    const sealed = await this.records.read(familyId);
    if (!sealed) return null;
    return (await this.seal.open(sealed)) ?? UPSTREAM_UNREADABLE;
  }

  private async fresh(familyId: string): Promise<ProviderGrant> {
    const holder = randomUUID();
    const deadline = this.clock() + LEASE_MS;
    for (;;) {
      const record = await this.current(familyId);
      if (!record || record === UPSTREAM_UNREADABLE) return record;
      const ready = this.answer(record);
      if (ready) return ready;
      if (await this.records.lease(familyId, holder, LEASE_MS)) return this.refresh(familyId, holder);
      // Another instance is refreshing: its record arrives in the store.
      if (this.clock() > deadline) throw new BackingUnavailable('provider', 'another instance holds the upstream refresh');
      await pause(POLL_MS);
    }
  }

  /** Holding the lease: read again (the last holder may have just written), spend the refresh token, store its successor. */
  private async refresh(familyId: string, holder: string): Promise<ProviderGrant> {
    let next: UpstreamRecord;
    let config: oidc.Configuration;
    try {
      const record = await this.current(familyId);
      if (!record || record === UPSTREAM_UNREADABLE) {
        await this.records.release(familyId, holder);
        return record;
      }
      const ready = this.answer(record);
      if (ready) {
        await this.records.release(familyId, holder);
        return ready;
      }
      if (!record.refreshToken) {
        await this.records.release(familyId, holder);
        return UPSTREAM_ENDED;
      }
      config = await this.config();
      const tokens = await oidc.refreshTokenGrant(config, record.refreshToken);
      next = recordFromTokens(tokens, this.clock(), record);
    } catch (err) {
      await this.records.release(familyId, holder).catch(() => undefined);
      // The provider refused the grant (revoked, expired, reused): the session is over. Anything else is an outage.
      if (err instanceof oidc.ResponseBodyError && err.status < 500 && err.error === 'invalid_grant') return UPSTREAM_ENDED;
      throw err instanceof BackingUnavailable ? err : new BackingUnavailable('provider', err);
    }
    return this.store(familyId, holder, await this.seal.seal(next), next, config);
  }

  /**
   * The successor written under the lease, tried again on a failure. The provider has spent the old
   * refresh token, so a successor that cannot be stored is revoked there: nothing holds it, and the
   * family's next refresh presents the spent one, which the provider refuses, so the session ends.
   */
  private async store(familyId: string, holder: string, sealed: string, next: UpstreamRecord, config: oidc.Configuration): Promise<ProviderGrant> {
    let kept: boolean | undefined;
    for (let attempt = 1; kept === undefined; attempt++) {
      try {
        kept = await this.records.release(familyId, holder, sealed);
      } catch (err) {
        if (attempt < RELEASE_TRIES) {
          await pause(POLL_MS * attempt);
          continue;
        }
        await revokeAtProvider(config, next.refreshToken);
        throw new BackingUnavailable('refresh store', new Error(`the provider's new tokens could not be stored (${err instanceof Error ? err.message : String(err)})`));
      }
    }
    if (!(await this.records.read(familyId))) {
      // The family ended while the provider answered (a logout, which revoked the spent refresh token): its
      // successor is revoked too, or it would outlive the session at the provider, and no token is handed out.
      await revokeAtProvider(config, next.refreshToken);
      return UPSTREAM_ENDED;
    }
    // Our lease ran out and another took it: what we got is not the family's.
    if (!kept) throw new BackingUnavailable('provider', 'the upstream refresh outlived its lease');
    return this.answer(next) ?? { accessToken: next.accessToken, tokenType: next.tokenType, expiresIn: Math.max(0, Math.floor((next.expiresAt - this.clock()) / 1000)) };
  }
}
