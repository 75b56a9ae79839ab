// Which refresh cookie a request gets: `Secure` with the `__Secure-` name
// everywhere except plain http to a loopback host, which is local development.
// WebKit (Safari) refuses `Secure` cookies on http://localhost, as Chromium and
// Firefox do not, so one default works in all three. The host decides, not the
// scheme alone: behind a TLS proxy the server may see http, and a production
// host must still get `Secure`.

export type CookieSecurity = boolean | 'auto';

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

export function secureCookieFor(setting: CookieSecurity, origin: string): boolean {
  return setting === 'auto' ? !isLoopbackHttp(origin) : setting;
}

export function refreshCookieName(secure: boolean): string {
  return secure ? '__Secure-broker_rt' : 'broker_rt';
}
