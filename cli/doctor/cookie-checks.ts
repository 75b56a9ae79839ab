// The refresh cookie a login sets, and its clearing at logout, against the
// cookie rules of RFC 10017 and the prefixes of RFC 6265bis. Pure.
import { parseSetCookie, type SetCookie } from 'cookie';
import type { Results } from './findings';
import { RULE } from './rules';

function expired(cookie: SetCookie, now: number): boolean {
  return (cookie.maxAge !== undefined && cookie.maxAge <= 0) || (cookie.expires !== undefined && cookie.expires.getTime() <= now);
}

/** Why a browser would drop this cookie for its name's prefix (RFC 6265bis §4.1.3), or null. */
function prefixViolation(c: SetCookie): string | null {
  const host = c.name.startsWith('__Host-');
  if ((host || c.name.startsWith('__Secure-') || c.name.startsWith('__Http-')) && !c.secure) return 'it has no Secure';
  if (host && c.domain !== undefined) return 'it has a Domain';
  if (host && c.path !== '/') return `its Path is ${c.path ?? 'not set'}, not /`;
  if ((c.name.startsWith('__Http-') || c.name.startsWith('__Host-Http-')) && !c.httpOnly) return 'it has no HttpOnly';
  return null;
}

/**
 * The cookie a login set: the one with a value that is not already expired
 * (an HttpOnly one first). `development`: plain http to a loopback host,
 * where the cookie may go without Secure and its prefix (Safari refuses
 * Secure cookies there). Returns the cookie, for the logout.
 */
export function checkRefreshCookie(setCookies: string[], development: boolean, results: Results, now = Date.now()): SetCookie | null {
  const live = setCookies.map((h) => parseSetCookie(h)).filter((c) => c.name && c.value && !expired(c, now));
  const cookie = live.find((c) => c.httpOnly) ?? live[0];
  if (!cookie) {
    results.fail('cookie_missing', 'the login set no cookie: the worker has nothing to refresh with', RULE.contract, 'set the refresh token in an HttpOnly cookie on the login answer');
    return null;
  }
  const name = cookie.name;
  const broken = prefixViolation(cookie);
  if (broken) {
    results.fail('cookie_prefix_invalid', `browsers drop the cookie ${name}: ${broken}, which its prefix forbids`, RULE.cookiePrefixRules, 'set the attributes the prefix demands: Secure, HttpOnly for __Http, Path=/ and no Domain for __Host-');
  }
  if (cookie.httpOnly) results.pass(`refresh cookie ${name} is HttpOnly`);
  else results.fail('cookie_not_httponly', `the refresh cookie ${name} is not HttpOnly: page script can read the refresh token`, RULE.cookieHttpOnly, 'set HttpOnly');
  if (cookie.sameSite === 'strict') results.pass(`refresh cookie ${name} is SameSite=Strict`);
  else results.warn('cookie_not_samesite_strict', `the refresh cookie ${name} is SameSite=${cookie.sameSite || 'not set'}, not Strict`, RULE.cookieSameSite, 'set SameSite=Strict');
  if (development && !cookie.secure) {
    results.info('cookie_development', `plain http on a loopback host: the refresh cookie ${name} goes without Secure and its prefix (local development; Safari refuses Secure cookies there); check your https deployment too`);
    return cookie;
  }
  if (cookie.secure) results.pass(`refresh cookie ${name} is Secure`);
  else results.fail('cookie_not_secure', `the refresh cookie ${name} is not Secure: it goes over plain http, and plain http can set it`, RULE.cookieSecure, "set Secure (token-broker/server: cookieSecure: true, or 'auto' behind https)");
  if (name.startsWith('__Host-Http-')) results.pass(`refresh cookie has the __Host-Http- prefix`);
  else results.warn('cookie_no_host_http_prefix', `the refresh cookie is ${name}, without the __Host-Http- prefix: a sibling subdomain may set a cookie of that name`, RULE.cookiePrefix, 'name it __Host-Http-<name> (with Secure, HttpOnly, Path=/ and no Domain)');
  if (cookie.path !== '/') results.warn('cookie_path_not_root', `the refresh cookie ${name} has Path=${cookie.path ?? '(none)'}, not /`, RULE.cookiePath, 'set Path=/');
  if (cookie.domain !== undefined) results.warn('cookie_domain_set', `the refresh cookie ${name} has Domain=${cookie.domain}: it goes to every subdomain, and they can set it`, RULE.cookieDomain, 'drop the Domain attribute');
  return cookie;
}

/** The logout must clear the cookie the login set. */
export function checkCookieCleared(setCookies: string[], name: string, results: Results, now = Date.now()): void {
  const cleared = setCookies.map((h) => parseSetCookie(h)).some((c) => c.name === name && expired(c, now));
  if (cleared) results.pass(`logout clears ${name}`);
  else results.warn('logout_keeps_cookie', `the logout answer does not clear ${name}`, RULE.logout, 'answer the logout with the cookie expired (Max-Age=0), with the same Path and prefix');
}
