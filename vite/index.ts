// token-broker/vite: the configured standalone worker in `vite` dev and in the
// `vite build` output, from one configuration, checked when Vite starts (the
// same check and full message as `token-broker copy-sw`). Optionally proxies
// the token endpoints and API prefixes to the backend in dev. Vite's own types
// are not imported: vite is an optional peer, and the hooks below are the
// stable subset of its Plugin interface that this needs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_CONFIG, type TokenBrokerConfig } from '../sw/config';
import { workerFiles, type WorkerFiles } from '../cli/worker-files';

export type { TokenBrokerConfig };

export interface TokenBrokerViteOptions {
  /** The worker's configuration, fixed in the served and emitted script. */
  config?: TokenBrokerConfig;
  /** In `vite` dev, proxy the token endpoints and API prefixes of `config` to this backend (`http://127.0.0.1:3000`). */
  backend?: string;
}

/** What this plugin uses of Vite's dev server and plugin context. */
interface DevServer {
  middlewares: { use(handler: (req: IncomingMessage, res: ServerResponse, next: () => void) => void): unknown };
}
interface EmitContext {
  emitFile(file: { type: 'asset'; fileName: string; source: string }): string;
}

export interface TokenBrokerVitePlugin {
  name: string;
  config(): { server?: { proxy: Record<string, { target: string }> } };
  configResolved(resolved: { base: string; command: 'build' | 'serve' }): void;
  configureServer(server: DevServer): void;
  generateBundle(this: EmitContext): void;
}

// This file is dist/vite/index.js; the built scripts are in public/.
const PUBLIC = new URL('../../public/', import.meta.url);

/** The Vite plugin: `plugins: [tokenBroker({ config: { dpop: true }, backend: 'http://127.0.0.1:3000' })]`. */
export function tokenBroker(options: TokenBrokerViteOptions = {}): TokenBrokerVitePlugin {
  const config = options.config ?? {};
  const dpop = config.dpop === true;
  let files: WorkerFiles;
  let base = '/';
  return {
    name: 'token-broker',
    config() {
      if (!options.backend) return {};
      const target = options.backend;
      const endpoints = { ...DEFAULT_CONFIG.endpoints, ...config.endpoints };
      const paths = [...(config.apiPrefixes ?? DEFAULT_CONFIG.apiPrefixes), ...Object.values(endpoints)];
      return { server: { proxy: Object.fromEntries(paths.map((p) => [p, { target }])) } };
    },
    configResolved(resolved) {
      base = resolved.base.endsWith('/') ? resolved.base : `${resolved.base}/`;
      // Checked here, so a bad configuration stops `vite` and `vite build` before they start.
      // Dev serves the development build (full messages in the browser) under the same name.
      files = workerFiles(PUBLIC, { dpop, dev: resolved.command === 'serve', config });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = new URL(req.url ?? '/', 'http://dev.invalid').pathname;
        const body = path === `${base}${files.name}` ? files.script : path === `${base}${files.name}.map` ? files.map : null;
        if (body === null) return next();
        // no-cache: the browser checks the worker script on every update check, so an edited configuration takes effect.
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(body);
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: files.name, source: files.script });
      this.emitFile({ type: 'asset', fileName: `${files.name}.map`, source: files.map });
    },
  };
}
