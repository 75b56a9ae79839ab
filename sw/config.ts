// Worker configuration: defaults and validation. Pure: no worker globals,
// unit-tested in Node. Nothing page script can reach ever supplies it: it is an
// argument of installTokenBroker, or fixed where the standalone script is served.
// The production scripts report a bad value by its key alone; the server and the
// CLI check the same configuration with full messages before they serve or copy it.

import { DEV } from './dev';

export type Persist = 'indexeddb' | 'memory';

/** What an app passes to `installTokenBroker(self, config)`. Every key is optional. */
export interface TokenBrokerConfig {
  /** Same-origin path prefixes whose requests receive the token. */
  apiPrefixes?: string[];
  /**
   * APIs on other origins whose CORS requests receive the token: exact origins (https, or http on
   * 127.0.0.1, localhost or [::1]) with their path prefixes. Off (empty) by default.
   */
  apiOrigins?: ApiOrigin[];
  /**
   * `passkey`: the prefix of the server's four passkey endpoints (`createPasskeys`' `path`);
   * `signIn`: the redirect sign-in's start route (token-broker/server/oidc), which a worker with DPoP calls with its proof.
   */
  endpoints?: { login?: string; refresh?: string; logout?: string; passkey?: string; signIn?: string };
  /** Seconds before expiry at which a request first waits for a refresh. */
  refreshBeforeExpiry?: number;
  /** When a tab becomes visible or the page comes back online with the token within its margin, refresh at once rather than on the first request. */
  refreshOnResume?: boolean;
  /**
   * Where the access token lives: `'memory'` (default) only in the worker, as RFC 10017 asks
   * (a worker restarted by the browser gets a new one with a silent refresh); `'indexeddb'` also
   * in the origin's IndexedDB, which page script of the origin can read.
   */
  persist?: Persist;
  /** Claims of the access token that `status` may show the page. */
  exposeClaims?: string[];
  /** Field names in the token endpoints' JSON, so existing backends fit. */
  fields?: { accessToken?: string[]; expiresIn?: string };
  /** Response header carrying a renewed access token (sliding renewal); off when null. */
  renewHeader?: string | null;
  /** Call skipWaiting() and clients.claim() so the first load is controlled. */
  takeControl?: boolean;
  /**
   * Route every request outside the API prefixes and token endpoints straight
   * to the network with the Static Routing API, so they never wake the worker.
   * Only for a worker that has no other fetch handlers: the standalone script
   * turns it on, `installTokenBroker` leaves it off unless asked.
   */
  staticRouting?: boolean;
  /** Sign a DPoP proof (RFC 9449) with a non-extractable key for every API and token request. */
  dpop?: boolean;
}

/** One API on another origin: `{ origin: 'https://api.example.com', prefixes: ['/v1/'] }`. */
export interface ApiOrigin {
  origin: string;
  prefixes: string[];
}

export interface ResolvedConfig {
  apiPrefixes: readonly string[];
  /** Origins in serialised form (lower case, punycode, no default port), prefixes as normalised pathnames. */
  apiOrigins: readonly { readonly origin: string; readonly prefixes: readonly string[] }[];
  endpoints: { login: string; refresh: string; logout: string; passkey: string; signIn: string };
  refreshBeforeExpiry: number;
  refreshOnResume: boolean;
  persist: Persist;
  exposeClaims: readonly string[];
  fields: { accessToken: readonly string[]; expiresIn: string };
  renewHeader: string | null;
  takeControl: boolean;
  staticRouting: boolean;
  dpop: boolean;
}

export const DEFAULT_CONFIG: ResolvedConfig = Object.freeze({
  apiPrefixes: ['/api/'],
  apiOrigins: [],
  endpoints: { login: '/auth/login', refresh: '/auth/refresh', logout: '/auth/logout', passkey: '/auth/passkey', signIn: '/auth/oidc/start' },
  refreshBeforeExpiry: 30,
  refreshOnResume: true,
  persist: 'memory',
  exposeClaims: ['sub'],
  fields: { accessToken: ['access_token', 'accessToken'], expiresIn: 'expires_in' },
  renewHeader: null,
  takeControl: true,
  staticRouting: false,
  // Off by default so that backends that know only bearer tokens keep working; the demo turns it on.
  dpop: false,
}) as ResolvedConfig;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'bad_config';
  constructor(
    readonly key: string,
    detail: string | false,
  ) {
    super(DEV ? `token broker config: ${key} ${detail}` : `bad_config ${key}`);
  }
}

// RFC 7230 token characters: a header name the Headers API will accept.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one value and returns it in resolved form, or throws a ConfigError naming `key`. */
type Rule = (value: unknown, key: string, origin: string) => unknown;
type Rules = { [key: string]: Rule | Rules };

function must(ok: unknown, key: string, what: string | false): void {
  if (!ok) throw new ConfigError(key, DEV && `must be ${what}`);
}

/**
 * A same-origin absolute path, normalised by the URL parser so that `..`,
 * `%2e%2e` and backslashes cannot smuggle a different path past the check.
 */
const path: Rule = (value, key, origin) => {
  must(typeof value === 'string' && /^\/(?!\/)/.test(value), key, DEV && `a same-origin path starting with "/" (got ${JSON.stringify(value)})`);
  let url: URL | null = null;
  try {
    url = new URL(value as string, origin);
  } catch {
    // reported below
  }
  must(url && url.origin === origin && !url.search && !url.hash, key, DEV && `a same-origin path without query or fragment (got ${JSON.stringify(value)})`);
  return url!.pathname;
};

const list =
  (item: Rule, min: number): Rule =>
  (value, key, origin) => {
    must(Array.isArray(value) && value.length >= min, key, DEV && (min ? 'a non-empty array' : 'an array'));
    return (value as unknown[]).map((v, i) => item(v, `${key}[${i}]`, origin));
  };

const text: Rule = (value, key) => {
  must(typeof value === 'string' && value !== '', key, DEV && 'a non-empty string');
  return value;
};

const flag: Rule = (value, key) => {
  must(typeof value === 'boolean', key, DEV && 'true or false');
  return value;
};

/** A path prefix on `origin`, narrower than the whole origin. */
const prefix: Rule = (value, key, origin) => {
  const p = path(value, key, origin);
  must(p !== '/', key, DEV && 'narrower than "/", which would send the token with every request');
  return p;
};

// Plain http only where no network can sit between the browser and the server.
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Another origin, compared later by its serialisation: the URL parser lower-cases,
 * converts IDN to punycode and drops default ports, so any spelling of one origin
 * gives one string. Anything beyond scheme, host and port is refused rather than
 * ignored, so `https://api.example.com/v1/` or `https://user@host` cannot mean less than it says.
 */
const otherOrigin: Rule = (value, key, own) => {
  let url: URL | null = null;
  try {
    url = new URL(value as string);
  } catch {
    // reported below
  }
  must(
    typeof value === 'string' &&
      url &&
      (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) &&
      // Userinfo, a path, a query or a fragment (even empty) all show in href.
      url.href === `${url.origin}/` &&
      !url.host.includes('*') &&
      url.origin !== own,
    key,
    DEV && `an exact https origin (http only on 127.0.0.1, localhost or [::1]), other than the worker's, without wildcard, user, path, query or fragment; paths go in prefixes (got ${JSON.stringify(value)})`,
  );
  return url!.origin;
};

const apiOrigin: Rule = (value, key, own) => {
  must(isPlainObject(value), key, DEV && 'an object { origin, prefixes }');
  const entry = value as Record<string, unknown>;
  for (const k of Object.keys(entry)) if (k !== 'origin' && k !== 'prefixes') throw new ConfigError(`${key}.${k}`, DEV && 'is not a known option');
  const origin = otherOrigin(entry.origin, `${key}.origin`, own) as string;
  // Prefixes are parsed against the API's origin: an absolute URL to any other origin is refused there.
  return { origin, prefixes: list(prefix, 1)(entry.prefixes, `${key}.prefixes`, origin) };
};

const RULES: Rules = {
  apiPrefixes: /* @__PURE__ */ list(prefix, 1),
  apiOrigins: /* @__PURE__ */ list(apiOrigin, 0),
  endpoints: { login: path, refresh: path, logout: path, passkey: path, signIn: path },
  refreshBeforeExpiry: (value, key) => {
    must(typeof value === 'number' && value >= 0 && value < Infinity, key, DEV && 'a number of seconds >= 0');
    return value;
  },
  persist: (value, key) => {
    must(value === 'indexeddb' || value === 'memory', key, DEV && '"indexeddb" or "memory"');
    return value;
  },
  exposeClaims: /* @__PURE__ */ list(text, 0),
  fields: { accessToken: /* @__PURE__ */ list(text, 1), expiresIn: text },
  renewHeader: (value, key) => {
    if (value === null) return null;
    must(typeof value === 'string' && HEADER_NAME.test(value), key, DEV && 'a valid HTTP header name');
    return (value as string).toLowerCase();
  },
  refreshOnResume: flag,
  takeControl: flag,
  staticRouting: flag,
  dpop: flag,
};

function apply(rules: Rules, input: Record<string, unknown>, out: Record<string, unknown>, prefix: string, origin: string): void {
  for (const [k, value] of Object.entries(input)) {
    const key = prefix + k;
    const rule = Object.hasOwn(rules, k) ? rules[k] : undefined;
    if (!rule) throw new ConfigError(key, DEV && 'is not a known option');
    if (value === undefined) continue;
    if (typeof rule === 'function') out[k] = rule(value, key, origin);
    else {
      must(isPlainObject(value), key, DEV && 'an object');
      apply(rule, value as Record<string, unknown>, (out[k] = { ...(out[k] as object) }), `${key}.`, origin);
    }
  }
}

/** Validates a config against the worker's origin and fills in defaults. */
export function resolveConfig(input: unknown, origin: string): ResolvedConfig {
  input ??= {};
  must(isPlainObject(input), 'config', DEV && 'an object');
  const out = { ...DEFAULT_CONFIG } as unknown as Record<string, unknown>;
  apply(RULES, input as Record<string, unknown>, out, '', origin);
  const config = out as unknown as ResolvedConfig;
  for (const e of Object.values(config.endpoints)) {
    if (config.apiPrefixes.some((p) => pathMatchesPrefix(e, p))) {
      throw new ConfigError('endpoints', DEV && `${e} lies under an API prefix; token endpoints must not receive the access token`);
    }
  }
  return config;
}

/**
 * Prefix match on path-segment boundaries: `/api/` and `/api` both match
 * `/api/x` but never `/apix`. Both sides are already-normalised pathnames.
 */
export function pathMatchesPrefix(pathname: string, prefix: string): boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return pathname === base || pathname.startsWith(base + '/');
}
