// Static Routing API (Chromium 123+): at install, tell the browser which
// requests never need the worker, so static assets skip the worker's start-up
// and its fetch event entirely. Only GET requests can skip it: URL patterns
// match the raw path, so `/%61uth/login` would slip past any pattern of the
// token endpoints, while every token endpoint call is a POST. Everything the
// worker must see (API prefixes, token endpoints) is excluded by pattern too;
// the fetch handler makes every decision for the requests that do reach it.

import type { ResolvedConfig } from './config';

interface RouterRule {
  condition: unknown;
  source: 'network';
}
// Structural, so the module also type-checks outside the worker lib (its unit test runs in Node).
interface InstallEventWithRoutes {
  waitUntil(promise: Promise<unknown>): void;
  addRoutes?: (rules: RouterRule | RouterRule[]) => Promise<void>;
}
declare const URLPattern: (new (init: { pathname: string }) => unknown) | undefined;

/** Escapes the characters that mean something in URLPattern pathname syntax. */
function literal(path: string): string {
  return path.replace(/[\\:*(){}+?]/g, '\\$&');
}

/** Pathname patterns for every request the worker must keep seeing. Broader is safe: it only costs a wake-up. */
export function workerPathPatterns(config: ResolvedConfig): string[] {
  const patterns: string[] = [];
  // Pathname-only patterns match on every origin, so the prefixes of APIs on other
  // origins are listed the same way: broader than their origin, never narrower.
  const prefixes = new Set([...config.apiPrefixes, ...config.apiOrigins.flatMap((a) => a.prefixes)]);
  for (const prefix of prefixes) {
    const base = literal(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
    patterns.push(base, `${base}/*`);
  }
  // The sign-in's start route is the worker's own POST, and a navigation: nothing there for the worker to see.
  const { passkey, signIn: _signIn, ...tokenEndpoints } = config.endpoints;
  // Everything under the passkey prefix is reserved, like the token endpoints.
  patterns.push(literal(passkey), `${literal(passkey)}/*`);
  for (const endpoint of Object.values(tokenEndpoints)) {
    // Spellings the server may route to the endpoint (trailing slash, case) are caught by the
    // fetch handler only if they reach it: route the endpoint's whole directory to the worker.
    const dir = endpoint.slice(0, endpoint.lastIndexOf('/') + 1);
    patterns.push(`${literal(dir)}*`);
  }
  return patterns;
}

/** The rule's condition: a GET outside every worker pattern (`not` and `or` take no siblings, hence De Morgan). */
export function staticCondition(patterns: unknown[]): unknown {
  return { not: { or: [{ not: { requestMethod: 'GET' } }, ...patterns.map((urlPattern) => ({ urlPattern }))] } };
}

export function addStaticRoutes(install: InstallEventWithRoutes, config: ResolvedConfig): void {
  if (!install.addRoutes || typeof URLPattern !== 'function') return;
  const Pattern = URLPattern;
  const rule: RouterRule = {
    condition: staticCondition(workerPathPatterns(config).map((pathname) => new Pattern({ pathname }))),
    source: 'network',
  };
  // A browser that lacks `not`/`or` rejects the rule; the fetch handler then sees everything, as without routing.
  install.waitUntil(install.addRoutes(rule).catch(() => undefined));
}
