// Serving the standalone worker scripts with their configuration fixed by the
// server: `self.tokenBrokerConfig ??= {...}` on a line of its own above the
// built script. The configuration is the server's, not the page's: the script
// refuses any query on its URL. A host worker that sets the global before
// `importScripts` keeps its own. Framework-neutral; the routes are in app.ts.
import { ConfigError, resolveConfig, type TokenBrokerConfig } from '../../sw/config';
import { CONFIG_GLOBAL } from '../../sw/standalone-config';
import { suggestKey } from './did-you-mean';

/** Strings of the built scripts, checked against the builds by worker-script.test.ts. */
export const BUILD_MARKERS = {
  /** Only the DPoP builds sign proofs. */
  dpop: 'dpop+jwt',
  /** A message the development builds keep and the production ones leave out. */
  dev: 'is reserved for the token broker worker',
} as const;

/** Which standalone build `source` is (bearer sw.js or DPoP sw-dpop.js), or null for any other script. */
export function standaloneBuild(source: string): 'bearer' | 'dpop' | null {
  if (source.includes(BUILD_MARKERS.dpop)) return 'dpop';
  return source.includes(CONFIG_GLOBAL) ? 'bearer' : null;
}

/** Throws a ConfigError naming the key when `config` would not start a worker. */
export function checkWorkerConfig(config: TokenBrokerConfig): void {
  try {
    // Endpoints and prefixes are same-origin paths: any origin checks them alike.
    resolveConfig(config, 'https://origin.invalid');
  } catch (err) {
    const suggestion = err instanceof ConfigError && err.message.endsWith('is not a known option') ? suggestKey(err.key) : null;
    if (suggestion) throw new ConfigError((err as ConfigError).key, `is not a known option; did you mean ${suggestion}?`);
    throw err;
  }
}

/**
 * The script to serve: the built file with the configuration above it. The
 * configuration is checked first, with full messages (a ConfigError naming the
 * key): the production scripts report a bad one by its key alone.
 */
export function configuredWorkerScript(built: string, config: TokenBrokerConfig): string {
  checkWorkerConfig(config);
  // The bearer build refuses dpop: true in the browser, where the error reaches only the page's calls.
  if (config.dpop === true && standaloneBuild(built) === 'bearer') {
    throw new ConfigError('dpop', 'is true, but this script is the bearer build (token-broker/sw.js), which cannot sign proofs and refuses it: serve token-broker/sw-dpop.js, or leave dpop out');
  }
  return withConfigLine(built, config);
}

/**
 * The same without the check: the reference server checks its own
 * configuration at start, and its tests serve bad ones on purpose, to see
 * the worker refuse them too.
 */
export function withConfigLine(built: string, config: TokenBrokerConfig): string {
  return `self.${CONFIG_GLOBAL}??=${JSON.stringify(config)};\n${built}`;
}

/** The built file's source map, moved one line down to match `configuredWorkerScript`. */
export function configuredSourceMap(map: string): string {
  const parsed = JSON.parse(map) as { mappings: string };
  // In a v3 source map each ';' starts the next generated line.
  return JSON.stringify({ ...parsed, mappings: `;${parsed.mappings}` });
}
