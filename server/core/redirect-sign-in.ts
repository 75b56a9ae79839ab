// What an adapter mounts for a redirect sign-in (token-broker/server/oidc makes
// one): two GET routes, reached by top-level navigations, each answering a
// redirect, and the start route's POST, the worker's (a DPoP-bound sign-in). Described here so the adapters need nothing of the OIDC library.
import type { BrokerHttpRequest, BrokerHttpResponse } from './http';

export interface RedirectSignIn {
  readonly paths: Readonly<{ start: string; callback: string }>;
  /** `GET start?returnTo=/path`: the redirect to the provider; `POST start` `{ returnTo }` (the worker's, with its DPoP proof): `{ location }`. */
  start(request: BrokerHttpRequest): Promise<BrokerHttpResponse>;
  /** `GET callback?code=…&state=…`: the session started, the redirect back to the app. */
  callback(request: BrokerHttpRequest): Promise<BrokerHttpResponse>;
}

/** A redirect (303: the browser follows with a GET) that no cache keeps and that names no referrer. */
export function redirectResponse(location: string, cookies: string[] = []): BrokerHttpResponse {
  return { status: 303, headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, cookies, body: undefined };
}
