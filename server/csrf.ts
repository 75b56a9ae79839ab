// CSRF defence of the cookie endpoints: a static custom header (which a
// cross-origin page cannot send without a preflight we never grant) and
// Sec-Fetch-Site: same-origin, with an Origin check for browsers without
// Fetch Metadata.
import type { FastifyRequest } from 'fastify';
import { WORKER_REQUEST_HEADER as WORKER_HEADER } from '../sw/protocol';

/** Null when the request may touch the refresh cookie, else the reason it may not. */
export function csrfViolation(request: FastifyRequest): string | null {
  if (request.headers[WORKER_HEADER] !== '1') return `missing ${WORKER_HEADER} header`;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' ? null : `Sec-Fetch-Site is ${site}`;
  const origin = request.headers.origin;
  if (origin === undefined) return null; // not a browser (curl, server-to-server): no ambient cookie to abuse
  const expected = `${request.protocol}://${request.host}`;
  return origin === expected ? null : `Origin ${origin} is not ${expected}`;
}
