// Which refresh cookie a request gets. A `Secure` cookie is always
// `__Host-Http-broker_rt` with `Path=/` and no `Domain`: a sibling subdomain
// can set neither a `__Host-` cookie for another host nor (with the `__Http`
// prefix of RFC 6265bis, which Chromium enforces) any such cookie from script,
// so it cannot plant a session even after it has evicted ours from the jar.
// Browsers that do not know `__Http` still enforce `__Host-`.
// Without `Secure` (plain http to a loopback host: local development, where
// Safari refuses `Secure` cookies) it is `broker_rt`, scoped to the auth routes.
import { header, type BrokerHttpRequest } from './http';

export type CookieSecurity = boolean | 'auto';

export const SECURE_COOKIE_NAME = '__Host-Http-broker_rt';
export const PLAIN_COOKIE_NAME = 'broker_rt';
/** The name before `__Host-`: never read (a sibling can set it), only cleared. */
export const LEGACY_COOKIE = { name: '__Secure-broker_rt', path: '/auth' };

const LOOPBACK = /^(localhost|[^/]*\.localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Whether `origin` (scheme://host[:port]) is plain http to this machine. */
export function isLoopbackHttp(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && LOOPBACK.test(url.hostname);
}

/**
 * `'auto'`: local development only when the browser says so (its `Origin` is
 * plain http to a loopback host) and the origin the adapter derived agrees.
 * The Host header alone is not enough: a proxy that rewrites it to its
 * upstream (`proxy_pass http://127.0.0.1:PORT`) would strip `Secure` from
 * every user of an https site. No `Origin` (not a browser) gets `Secure`.
 */
export function secureCookieFor(setting: CookieSecurity, request: Pick<BrokerHttpRequest, 'origin' | 'headers'>): boolean {
  if (setting !== 'auto') return setting;
  const browserOrigin = header(request, 'origin');
  return !(browserOrigin !== undefined && isLoopbackHttp(browserOrigin) && isLoopbackHttp(request.origin));
}

export function refreshCookieName(secure: boolean): string {
  return secure ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME;
}

/**
 * A server cookie's name and path. With `Secure` it is `__Host-`-prefixed and
 * at `Path=/` (the prefix demands it; the browser then refuses it from any
 * other host, so a sibling cannot toss one in); without, the plain name at
 * `plainPath`, which a sibling on plain http can still set.
 */
export function cookieScope(secure: boolean, names: { secure: `__Host-${string}`; plain: string }, plainPath: string): { name: string; path: string } {
  return secure ? { name: names.secure, path: '/' } : { name: names.plain, path: plainPath };
}
