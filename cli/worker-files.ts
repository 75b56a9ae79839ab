// The standalone worker script and its map with the configuration fixed in
// them, as `token-broker copy-sw` writes them and the Vite plugin serves and
// emits them: one place that picks the build, checks the configuration (full
// messages) and points the script at its map by the name it is served under.
import { readFileSync } from 'node:fs';
import type { TokenBrokerConfig } from '../sw/config';
import { configuredSourceMap, configuredWorkerScript } from '../server/core/worker-script';

export interface WorkerFiles {
  /** `sw.js` or `sw-dpop.js`: the name to serve it under, at the site root. */
  name: string;
  script: string;
  map: string;
}

/**
 * `publicDir` is the package's public/ folder (the built scripts); `dev` takes the development
 * build (full messages in the browser) under the same name, so the registration does not change.
 * Throws a ConfigError, with the full message, for a configuration the worker would refuse.
 */
export function workerFiles(publicDir: URL, options: { dpop: boolean; dev: boolean; config: TokenBrokerConfig }): WorkerFiles {
  const name = options.dpop ? 'sw-dpop.js' : 'sw.js';
  const built = new URL(options.dev ? name.replace(/\.js$/, '.dev.js') : name, publicDir);
  const source = readFileSync(built, 'utf8').replace(/\/\/# sourceMappingURL=\S+/, `//# sourceMappingURL=${name}.map`);
  const script = configuredWorkerScript(source, options.config);
  return { name, script, map: configuredSourceMap(readFileSync(new URL(`${built.pathname.split('/').pop()}.map`, built), 'utf8')) };
}
