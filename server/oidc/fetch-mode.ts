// The start route and the callback are navigations. A GET that another site makes
// and that says it is not one (an <img>, a <script>, a fetch) is answered before it
// is counted: it must not spend the visitor's per-address limit, nor a pushed
// authorization request at the provider. Without Fetch Metadata (an old browser, a
// server-side client) the request is taken as it comes.
import { header, type BrokerHttpRequest } from '../core/http';

export function isCrossSiteSubresource(request: BrokerHttpRequest): boolean {
  const mode = header(request, 'sec-fetch-mode');
  const site = header(request, 'sec-fetch-site');
  return request.method === 'GET' && mode !== undefined && mode !== 'navigate' && site !== undefined && site !== 'same-origin';
}
