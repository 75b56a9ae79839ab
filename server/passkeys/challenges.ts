// Pending WebAuthn challenges: one per sign-in session and purpose, taken at most
// once, dead after a short time. Pure over the store and an injected clock.
import type { ChallengePurpose, PasskeyStore } from './store';

/** The store key of a session's pending challenge: a challenge of one session never answers another's. */
export function challengeKey(sid: string, purpose: ChallengePurpose): string {
  return `${purpose}:${sid}`;
}

export class ChallengeBook {
  constructor(
    private readonly store: Pick<PasskeyStore, 'putChallenge' | 'takeChallenge'>,
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  /** Replaces the session's pending challenge of that purpose: options asked for twice leave only the newer. */
  put(key: string, challenge: string): Promise<void> {
    return this.store.putChallenge(key, challenge, this.clock() + this.ttlMs);
  }

  take(key: string): Promise<string | null> {
    return this.store.takeChallenge(key, this.clock());
  }
}
