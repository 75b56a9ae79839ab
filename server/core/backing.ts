// The core's backings (the refresh store, the DPoP replay cache, the rate
// limits) are a network away in a multi-instance deployment: Redis restarting,
// failing over or unreachable. A backing that fails is an outage, not a fault
// of the request: the endpoints answer 503 with Retry-After, which the worker
// takes as "keep the session and try later", instead of a 500.
import { errorResponse, type BrokerHttpResponse } from './http';

/** Seconds a client is asked to wait while a backing is down. */
const RETRY_AFTER_SECONDS = 2;

export class BackingUnavailable extends Error {
  constructor(
    readonly backing: string,
    cause: unknown,
  ) {
    super(`The ${backing} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * `target` with every method's failure (a throw or a rejection) turned into a
 * BackingUnavailable naming `backing`; the app's own stores included, whatever
 * they throw.
 */
export function guardBacking<T extends object>(backing: string, target: T): T {
  const fail = (err: unknown): never => {
    throw err instanceof BackingUnavailable ? err : new BackingUnavailable(backing, err);
  };
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key, t);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const result: unknown = value.apply(t, args);
          return result instanceof Promise ? result.catch(fail) : result;
        } catch (err) {
          return fail(err);
        }
      };
    },
  });
}

/** The answer for a request a failed backing could not serve; anything else is rethrown. */
export function unavailableResponse(err: unknown): BrokerHttpResponse {
  if (!(err instanceof BackingUnavailable)) throw err;
  return errorResponse(503, 'unavailable', `The ${err.backing} is unavailable; nothing was changed. Retry in ${RETRY_AFTER_SECONDS} s`, {
    'retry-after': String(RETRY_AFTER_SECONDS),
  });
}
