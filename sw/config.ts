// Worker configuration: defaults, validation and the flat search-parameter form
// used by the standalone script. Pure: no worker globals, unit-tested in Node.

export type Persist = 'indexeddb' | 'memory';

/** What an app passes to `installTokenBroker(self, config)`. Every key is optional. */
export interface TokenBrokerConfig {
  /** Same-origin path prefixes whose requests receive the token. */
  apiPrefixes?: string[];
  endpoints?: { login?: string; refresh?: string; logout?: string };
  /** Seconds before expiry at which a request first waits for a refresh. */
  refreshBeforeExpiry?: number;
  persist?: Persist;
  /** Claims of the access token that `status` may show the page. */
  exposeClaims?: string[];
  /** Field names in the token endpoints' JSON, so existing backends fit. */
  fields?: { accessToken?: string[]; expiresIn?: string };
  /** Response header carrying a renewed access token (sliding renewal); off when null. */
  renewHeader?: string | null;
  /** Call skipWaiting() and clients.claim() so the first load is controlled. */
  takeControl?: boolean;
  /** Sign a DPoP proof (RFC 9449) with a non-extractable key for every API and token request. */
  dpop?: boolean;
}

export interface ResolvedConfig {
  apiPrefixes: readonly string[];
  endpoints: { login: string; refresh: string; logout: string };
  refreshBeforeExpiry: number;
  persist: Persist;
  exposeClaims: readonly string[];
  fields: { accessToken: readonly string[]; expiresIn: string };
  renewHeader: string | null;
  takeControl: boolean;
  dpop: boolean;
}

export const DEFAULT_CONFIG: ResolvedConfig = Object.freeze({
  apiPrefixes: ['/api/'],
  endpoints: { login: '/auth/login', refresh: '/auth/refresh', logout: '/auth/logout' },
  refreshBeforeExpiry: 30,
  persist: 'indexeddb',
  exposeClaims: ['sub'],
  fields: { accessToken: ['access_token', 'accessToken'], expiresIn: 'expires_in' },
  renewHeader: null,
  takeControl: true,
  // Off by default so that backends that know only bearer tokens keep working; the demo turns it on.
  dpop: false,
}) as ResolvedConfig;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'bad_config';
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`token broker config: ${key} ${detail}`);
  }
}

const TOP_KEYS = new Set(Object.keys(DEFAULT_CONFIG));
const ENDPOINT_KEYS = new Set(['login', 'refresh', 'logout']);
const FIELD_KEYS = new Set(['accessToken', 'expiresIn']);
// RFC 7230 token characters: a header name the Headers API will accept.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknown(obj: Record<string, unknown>, allowed: Set<string>, prefix: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.has(k)) throw new ConfigError(prefix + k, 'is not a known option');
  }
}

/**
 * A same-origin absolute path, normalised by the URL parser so that `..`,
 * `%2e%2e` and backslashes cannot smuggle a different path past the check.
 */
function samePath(value: unknown, key: string, origin: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(key, 'must be a non-empty path string');
  if (!value.startsWith('/') || value.startsWith('//')) {
    throw new ConfigError(key, `must be a same-origin path starting with "/" (got ${JSON.stringify(value)})`);
  }
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    throw new ConfigError(key, `is not a valid path (got ${JSON.stringify(value)})`);
  }
  if (url.origin !== origin) throw new ConfigError(key, `must be same-origin (got ${JSON.stringify(value)})`);
  if (url.search || url.hash) throw new ConfigError(key, 'must be a plain path without query or fragment');
  return url.pathname;
}

function stringList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new ConfigError(key, 'must be an array of non-empty strings');
  }
  return value as string[];
}

/** Validates a config against the worker's origin and fills in defaults. */
export function resolveConfig(input: unknown, origin: string): ResolvedConfig {
  if (input === undefined || input === null) input = {};
  if (!isPlainObject(input)) throw new ConfigError('config', 'must be an object');
  rejectUnknown(input, TOP_KEYS, '');
  const d = DEFAULT_CONFIG;

  let apiPrefixes = d.apiPrefixes;
  if (input.apiPrefixes !== undefined) {
    const list = stringList(input.apiPrefixes, 'apiPrefixes');
    if (list.length === 0) throw new ConfigError('apiPrefixes', 'must name at least one prefix');
    apiPrefixes = list.map((p, i) => {
      const path = samePath(p, `apiPrefixes[${i}]`, origin);
      if (path === '/') throw new ConfigError(`apiPrefixes[${i}]`, 'must not be "/": that would send the token with every request');
      return path;
    });
  }

  const endpoints = { ...d.endpoints };
  if (input.endpoints !== undefined) {
    if (!isPlainObject(input.endpoints)) throw new ConfigError('endpoints', 'must be an object');
    rejectUnknown(input.endpoints, ENDPOINT_KEYS, 'endpoints.');
    for (const k of ['login', 'refresh', 'logout'] as const) {
      const v = input.endpoints[k];
      if (v !== undefined) endpoints[k] = samePath(v, `endpoints.${k}`, origin);
    }
  }

  let refreshBeforeExpiry = d.refreshBeforeExpiry;
  if (input.refreshBeforeExpiry !== undefined) {
    const v = input.refreshBeforeExpiry;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError('refreshBeforeExpiry', 'must be a number of seconds >= 0');
    }
    refreshBeforeExpiry = v;
  }

  let persist = d.persist;
  if (input.persist !== undefined) {
    if (input.persist !== 'indexeddb' && input.persist !== 'memory') {
      throw new ConfigError('persist', 'must be "indexeddb" or "memory"');
    }
    persist = input.persist;
  }

  const exposeClaims = input.exposeClaims === undefined ? d.exposeClaims : stringList(input.exposeClaims, 'exposeClaims');

  const fields = { ...d.fields };
  if (input.fields !== undefined) {
    if (!isPlainObject(input.fields)) throw new ConfigError('fields', 'must be an object');
    rejectUnknown(input.fields, FIELD_KEYS, 'fields.');
    if (input.fields.accessToken !== undefined) {
      const list = stringList(input.fields.accessToken, 'fields.accessToken');
      if (list.length === 0) throw new ConfigError('fields.accessToken', 'must name at least one field');
      fields.accessToken = list;
    }
    if (input.fields.expiresIn !== undefined) {
      if (typeof input.fields.expiresIn !== 'string' || !input.fields.expiresIn) {
        throw new ConfigError('fields.expiresIn', 'must be a non-empty string');
      }
      fields.expiresIn = input.fields.expiresIn;
    }
  }

  let renewHeader = d.renewHeader;
  if (input.renewHeader !== undefined && input.renewHeader !== null) {
    if (typeof input.renewHeader !== 'string' || !HEADER_NAME.test(input.renewHeader)) {
      throw new ConfigError('renewHeader', 'must be a valid HTTP header name');
    }
    renewHeader = input.renewHeader.toLowerCase();
  }

  let takeControl = d.takeControl;
  if (input.takeControl !== undefined) {
    if (typeof input.takeControl !== 'boolean') throw new ConfigError('takeControl', 'must be true or false');
    takeControl = input.takeControl;
  }

  let dpop = d.dpop;
  if (input.dpop !== undefined) {
    if (typeof input.dpop !== 'boolean') throw new ConfigError('dpop', 'must be true or false');
    dpop = input.dpop;
  }

  const all = [endpoints.login, endpoints.refresh, endpoints.logout];
  for (const e of all) {
    if (apiPrefixes.some((p) => pathMatchesPrefix(e, p))) {
      throw new ConfigError('endpoints', `${e} lies under an API prefix; token endpoints must not receive the access token`);
    }
  }

  return { apiPrefixes, endpoints, refreshBeforeExpiry, persist, exposeClaims, fields, renewHeader, takeControl, dpop };
}

/**
 * Prefix match on path-segment boundaries: `/api/` and `/api` both match
 * `/api/x` but never `/apix`. Both sides are already-normalised pathnames.
 */
export function pathMatchesPrefix(pathname: string, prefix: string): boolean {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return pathname === base || pathname.startsWith(base + '/');
}

// --- Search-parameter form, for the standalone script's registration URL ---

const LIST_KEYS = new Set(['apiPrefixes', 'exposeClaims', 'fields.accessToken']);
const NUMBER_KEYS = new Set(['refreshBeforeExpiry']);
const BOOLEAN_KEYS = new Set(['takeControl', 'dpop']);

/**
 * Turns `?apiPrefixes=/api/,/v2/&endpoints.login=/login&persist=memory` into a
 * config object. Lists are comma-separated or repeated; nested keys are dotted.
 * The result still goes through `resolveConfig`, which does the validation.
 */
export function configFromSearchParams(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    let value: unknown;
    if (LIST_KEYS.has(key)) value = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    else if (values.length > 1) throw new ConfigError(key, 'is given more than once');
    else if (NUMBER_KEYS.has(key)) value = values[0] === '' ? NaN : Number(values[0]);
    else if (BOOLEAN_KEYS.has(key)) {
      if (values[0] !== 'true' && values[0] !== 'false') throw new ConfigError(key, 'must be true or false');
      value = values[0] === 'true';
    } else value = values[0];
    const dot = key.indexOf('.');
    if (dot === -1) out[key] = value;
    else {
      const head = key.slice(0, dot);
      const nested = (out[head] ??= {}) as Record<string, unknown>;
      if (!isPlainObject(nested)) throw new ConfigError(head, 'is given both as a value and as a group');
      nested[key.slice(dot + 1)] = value;
    }
  }
  return out;
}

/** The inverse of `configFromSearchParams`, used by the client to build the script URL. */
export function configToSearchParams(config: TokenBrokerConfig): URLSearchParams {
  const params = new URLSearchParams();
  const put = (key: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) params.set(key, v.join(','));
    else if (isPlainObject(v)) for (const [k, inner] of Object.entries(v)) put(`${key}.${k}`, inner);
    else params.set(key, String(v));
  };
  for (const [k, v] of Object.entries(config)) put(k, v);
  return params;
}
