// Per-address limits of the sign-in's start and callback routes, on the broker's
// rate-limit backings (memory, SQLite, Redis). Each start costs a call to the
// provider (PAR) and a sealed cookie, each callback a decryption and a code
// exchange: a script looping over them must not turn the server into its
// client of the provider, nor the provider's own limits into an outage for everyone.
import { consume, memoryRateLimits, type RateLimitBacking } from '../core/rate-limits';

export interface SignInLimits {
  /** Seconds until this address may try again, or null when within the limit. */
  start(ip: string): Promise<number | null>;
  callback(ip: string): Promise<number | null>;
}

export function signInLimits(backing: RateLimitBacking | undefined, perIp: number): SignInLimits {
  const make = backing ?? memoryRateLimits();
  const start = make({ name: 'oidc-start-ip', points: perIp, durationSeconds: 60 });
  const callback = make({ name: 'oidc-callback-ip', points: perIp, durationSeconds: 60 });
  return { start: (ip) => consume(start, ip), callback: (ip) => consume(callback, ip) };
}
