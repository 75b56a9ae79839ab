// Which requests the worker touches. Pure: the invariants of the design live
// here and are unit-tested. Comparisons use parsed URLs, never string prefixes
// of whole URLs, so `https://app.example.com.evil/` cannot pass for the origin.

import { pathMatchesPrefix, type ResolvedConfig } from './config';

export type RequestKind =
  /** Same-origin call under an API prefix, or a CORS call under a prefix of a configured other origin: the token is attached. */
  | 'api'
  /** A page's own request to a token endpoint: refused, never forwarded. */
  | 'endpoint'
  /** Everything else goes to the network untouched. */
  | 'pass';

export function classifyRequest(url: string, mode: RequestMode, origin: string, config: ResolvedConfig): RequestKind {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'pass';
  }
  if (parsed.origin !== origin) return otherOriginKind(parsed, mode, config);
  // Navigations are never reserved, nor given the token: `/auth/login` is a common
  // SPA route, and a form post to an endpoint is stopped by the server's CSRF checks
  // (it cannot carry the worker's header); its response is the server's, not a token's.
  if (mode === 'navigate') return 'pass';
  const path = parsed.pathname;
  const form = endpointForm(path);
  // Everything under the passkey prefix is the worker's to call, with the token, as the token endpoints are; the
  // sign-in's start too (its POST binds the family to the caller's key: page script must not bind it to its own).
  if (reservedForms(config).has(form) || pathMatchesPrefix(form, endpointForm(config.endpoints.passkey))) return 'endpoint';
  // No-cors requests (img, script) never get the token: their responses are not the
  // API's to hand out, and a token would ride along on requests the page author did not write.
  if (mode === 'no-cors' || hidesSegments(path)) return 'pass';
  for (const prefix of config.apiPrefixes) if (pathMatchesPrefix(path, prefix)) return 'api';
  return 'pass';
}

// Computed once per config, not on every request of the hot path.
const reservedCache = new WeakMap<ResolvedConfig, Set<string>>();
function reservedForms(config: ResolvedConfig): Set<string> {
  let forms = reservedCache.get(config);
  if (!forms) reservedCache.set(config, (forms = new Set([config.endpoints.login, config.endpoints.refresh, config.endpoints.logout, config.endpoints.signIn].map(endpointForm))));
  return forms;
}

/**
 * The form in which paths are compared with the token endpoints: decoded,
 * slashes collapsed, no trailing slash, lower case. Servers differ in which of
 * these spellings they route to the same handler, so every one of them is
 * refused; erring this way only ever refuses more.
 */
function endpointForm(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Malformed escapes: compare as written.
  }
  return decoded.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1').toLowerCase();
}

// An encoded `/`, `\` or `.` survives URL parsing, so `/api/..%2Fadmin` looks under `/api/`
// here while a proxy that decodes and resolves it routes it to `/admin`: no token for such a path.
function hidesSegments(path: string): boolean {
  return /%(2f|5c|2e)/i.test(path);
}

/**
 * Another origin gets the token only in a CORS request, the one mode in which
 * that origin's server decides (by its CORS answer) whether this page may read
 * the response. Navigations, `no-cors` and anything else pass untouched.
 */
function otherOriginKind(url: URL, mode: RequestMode, config: ResolvedConfig): RequestKind {
  if (mode !== 'cors' || hidesSegments(url.pathname)) return 'pass';
  const api = config.apiOrigins.find((a) => a.origin === url.origin);
  return api && api.prefixes.some((p) => pathMatchesPrefix(url.pathname, p)) ? 'api' : 'pass';
}
