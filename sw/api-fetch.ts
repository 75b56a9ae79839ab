// Completes a page's API request: attach the token, send, and on a 401 refresh
// once and replay the request, body included.

import type { Broker, TokenDecision } from './broker';
import { DEV } from './dev';
import { STEP_UP_HEADER, type WorkerErrorBody } from './protocol';
import { beginSend, endSend, isOnceOnly, sentKey } from './sent-requests';
import { readStepUpChallenge } from './step-up/read-challenge';
import type { TokenRecord } from './token-response';

function jsonError(status: number, body: WorkerErrorBody, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
}

export function endpointRefusal(path: string, worker: string, scope: string): Response {
  return jsonError(403, {
    error: {
      code: 'endpoint_reserved',
      message: DEV
        ? `${path} is reserved for the token broker worker ${worker} (scope ${scope}); use the client's login(), logout() or refresh(). If this app does not use token-broker, that worker is left over from another app on this origin: unregister it (DevTools, Application, Service workers).`
        : `${path}: reserved by ${worker} (scope ${scope})`,
    },
  });
}

function withToken(request: Request, body: ArrayBuffer | null, token: TokenRecord | null, proof: string | null): Request {
  const headers = new Headers(request.headers);
  if (token) headers.set('authorization', `${proof ? 'DPoP' : 'Bearer'} ${token.accessToken}`);
  if (proof) headers.set('dpop', proof);
  // A followed redirect would take the token along to a URL the rules never
  // saw (browsers keep Authorization on same-origin hops), and the worker
  // cannot read where a redirect points: a request with the token never follows one.
  const redirect = token && request.redirect === 'follow' ? 'manual' : request.redirect;
  // The original request stays unread, so it can be rebuilt for a retry.
  return new Request(request, body === null ? { headers, redirect } : { headers, redirect, body });
}

/** What the page gets for a redirect it asked to follow, answered to a request that carried the token. */
function refuseRedirect(request: Request, response: Response): Response {
  if (response.type !== 'opaqueredirect' || request.redirect !== 'follow') return response;
  return jsonError(502, {
    error: {
      code: 'redirect_refused',
      message: DEV
        ? `The API answered ${new URL(request.url).pathname} with a redirect; the token broker does not follow redirects of requests that carry the token. Call the final URL.`
        : new URL(request.url).pathname,
    },
  });
}

/** Sends with the token, and with a fresh proof when the token is DPoP-bound. */
export function sendWithToken(broker: Pick<Broker, 'dpop'>, request: Request, body: ArrayBuffer | null, token: TokenRecord): Promise<Response> {
  const send = (proof: string | null) => fetch(withToken(request, body, token, proof));
  const dpop = token.tokenType === 'DPoP' ? broker.dpop : null;
  return dpop ? dpop.fetchBound(request.method, request.url, token.accessToken, send) : send(null);
}

async function send(broker: Broker, request: Request, body: ArrayBuffer | null, decision: TokenDecision): Promise<Response> {
  switch (decision.kind) {
    case 'network':
      return Response.error();
    case 'unavailable': {
      // Seconds until the worker tries the refresh endpoint again: a page can wait that long.
      const wait: Record<string, string> = decision.retryAt === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil((decision.retryAt - Date.now()) / 1000))) };
      return jsonError(503, { error: { code: 'unavailable', message: DEV ? 'The token service is unavailable; the request was not sent. Try again later.' : 'unavailable' } }, wait);
    }
    case 'none':
      return strip(broker, await fetch(withToken(request, body, null, null)), null, false);
    case 'token':
      return strip(broker, refuseRedirect(request, await sendWithToken(broker, request, body, decision.token)), decision.token, new URL(request.url).origin === location.origin);
  }
}

/**
 * Takes out of every answer the server gave what only the worker may tell the page:
 * a sliding-renewal token (the page never sees a token) and the step-up mark (the page
 * trusts it; the worker sets it from a real challenge, any server could forge it).
 * Only the worker's own origin (the broker, which holds the signing key) may renew:
 * a renewal from an API on another origin, or on a request sent without a token, is
 * dropped unread, since the worker cannot check a signature and that origin must not
 * extend or replace the session. Opaque, redirect and error answers show no headers.
 */
async function strip(broker: Broker, response: Response, used: TokenRecord | null, ownOrigin: boolean): Promise<Response> {
  const name = broker.config.renewHeader;
  const renewed = name && response.headers.get(name);
  if (!renewed && !response.headers.has(STEP_UP_HEADER)) return response;
  if (renewed && ownOrigin) await broker.adoptRenewed(renewed, used!);
  return withHeaders(response, (headers) => {
    if (name) headers.delete(name);
    headers.delete(STEP_UP_HEADER);
  });
}

export async function handleApiRequest(broker: Broker, request: Request, clientId: string): Promise<Response> {
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  // Buffered before the first send so a retry after a 401 can carry it again.
  const body = hasBody ? await request.clone().arrayBuffer() : null;
  const once = body && isOnceOnly(request.method) ? await sentKey(request, clientId, body) : null;
  if (once && !(await beginSend(broker.store.db, once))) {
    return jsonError(502, {
      error: {
        code: 'outcome_unknown',
        message: DEV
          ? `The token broker worker was stopped while it sent this ${request.method}, and the browser handed the request to the next one. It may have reached the API: it was not sent again. Check before you repeat it.`
          : 'outcome_unknown',
      },
    });
  }
  try {
    return await sendOnce(broker, request, body);
  } finally {
    if (once) endSend(broker.store.db, once);
  }
}

async function sendOnce(broker: Broker, request: Request, body: ArrayBuffer | null): Promise<Response> {
  const fast = broker.freshToken();
  const decision: TokenDecision = fast ? { kind: 'token', token: fast } : await broker.tokenForRequest();
  const response = await send(broker, request, body, decision);
  if (decision.kind === 'token' && (response.status === 401 || response.status === 403)) {
    // RFC 9470: the sign-in is too old or too weak. A refresh keeps the sign-in's auth_time and
    // acr, so refreshing and replaying would only loop: the page gets the answer and the requirement.
    const requirement = readStepUpChallenge(response.headers.get('www-authenticate'));
    if (requirement) return withHeaders(response, (headers) => headers.set(STEP_UP_HEADER, JSON.stringify(requirement)));
  }
  if (response.status !== 401 || decision.kind !== 'token') return response;
  const retry = await broker.tokenAfterUnauthorized(decision.token, new URL(request.url).origin);
  // The server's 401 reaches the page only when the session has ended; a refresh that
  // could not be made now answers as it would before a send (503 unavailable, or a network error).
  // No loop: whatever the retry gets, a second 401 included, goes to the page.
  return retry.kind === 'none' ? response : send(broker, request, body, retry);
}

/** The same response with its headers edited: a fetched response's headers are immutable. */
function withHeaders(response: Response, edit: (headers: Headers) => void): Response {
  const headers = new Headers(response.headers);
  edit(headers);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
