// Where the standalone scripts take their configuration from: a global that
// the file they are served in sets before them (`self.tokenBrokerConfig = {...}`,
// written by the server or the build), never their URL. Page script can
// register any script of the origin with any query and scope, so nothing it can
// choose may decide where tokens go or how they are stored, bound or revoked.
// Pure: unit-tested in Node.

import { ConfigError, type TokenBrokerConfig } from './config';
import { DEV } from './dev';

/** The global the served file sets; the name is part of the package's API. */
export const CONFIG_GLOBAL = 'tokenBrokerConfig';

/**
 * The configuration of a standalone script: `given` over the build's defaults;
 * without `given`, none (ConfigError).
 * A query on the script URL is refused rather than ignored, so a registration
 * page script made up (or a stale `?persist=memory` from older versions) fails
 * closed with a reason instead of running with defaults.
 */
export function standaloneConfig(scriptUrl: string, given: unknown, defaults: TokenBrokerConfig): TokenBrokerConfig {
  const url = new URL(scriptUrl);
  if (url.search) {
    throw new ConfigError(
      'script URL query',
      DEV &&
        `must have no query (got ${JSON.stringify(url.search.slice(0, 80))}): the worker's configuration is fixed where its script is served (self.${CONFIG_GLOBAL}), never taken from its URL`,
    );
  }
  // No global: a copy served without its configuration line (node_modules, an unprocessed
  // copy) that page script may register to undo the app's settings. Fails closed.
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError(CONFIG_GLOBAL, DEV && (given === undefined ? 'is not set: serve this script with its configuration line (configuredWorkerScript(), token-broker copy-sw), even {}' : 'must be an object'));
  }
  return { ...defaults, ...(given as TokenBrokerConfig) };
}
