// CSRF defence of the cookie endpoints: a static custom header (which a
// cross-origin page cannot send without a preflight we never grant) and
// Sec-Fetch-Site: same-origin, with an Origin check for browsers without
// Fetch Metadata.
import { WORKER_REQUEST_HEADER } from '../../sw/protocol';
import { header, type BrokerHttpRequest } from './http';

/** Null when the request may touch the refresh cookie, else the reason it may not. */
export function csrfViolation(request: BrokerHttpRequest): string | null {
  if (header(request, WORKER_REQUEST_HEADER) !== '1') return `missing ${WORKER_REQUEST_HEADER} header`;
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' ? null : `Sec-Fetch-Site is ${site}`;
  const origin = header(request, 'origin');
  if (origin === undefined) return null; // not a browser (curl, server-to-server): no ambient cookie to abuse
  return origin === request.origin ? null : `Origin ${origin} is not ${request.origin}`;
}
