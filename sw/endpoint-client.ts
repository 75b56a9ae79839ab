// The worker's own calls to the token endpoints. Only these requests carry the
// refresh cookie: a page's own request to an endpoint is refused by the fetch
// handler, and the worker's fetches do not pass through its own fetch event.

import { WORKER_REQUEST_HEADER } from './protocol';

export type EndpointResult = { kind: 'response'; response: Response; body: unknown } | { kind: 'network' };

/**
 * An answer that has not come by then counts as a network error. Logins and
 * logouts wait for each other, and a refresh holds the lock: none may wait on
 * a connection that never answers.
 */
const ENDPOINT_TIMEOUT_MS = 15_000;

export async function postToEndpoint(path: string, body: unknown, extraHeaders: Record<string, string> = {}): Promise<EndpointResult> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
      headers: { ...extraHeaders, 'content-type': 'application/json', [WORKER_REQUEST_HEADER]: '1' },
      body: JSON.stringify(body ?? {}),
      signal: AbortSignal.timeout(ENDPOINT_TIMEOUT_MS),
    });
  } catch {
    return { kind: 'network' };
  }
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    // A non-JSON body (an HTML error page from a proxy) is reported by status alone.
  }
  return { kind: 'response', response, body: parsed };
}
