// The worker script as served: MIME type, caching, redirects, the
// configuration line of the standalone scripts, and whether the build (bearer
// or DPoP) can do what the configuration asks. Pure.
import { ConfigError, type TokenBrokerConfig } from '../../sw/config';
import { CONFIG_GLOBAL } from '../../sw/standalone-config';
import { BUILD_MARKERS, checkWorkerConfig, standaloneBuild } from '../../server/core/worker-script';
import type { Results } from './findings';
import { RULE } from './rules';
import type { Answer } from './snapshot';

export { BUILD_MARKERS };

// The HTML standard's JavaScript MIME type essences.
const JAVASCRIPT_TYPES = new Set([
  'application/ecmascript',
  'application/javascript',
  'application/x-ecmascript',
  'application/x-javascript',
  'text/ecmascript',
  'text/javascript',
  'text/javascript1.0',
  'text/javascript1.1',
  'text/javascript1.2',
  'text/javascript1.3',
  'text/javascript1.4',
  'text/javascript1.5',
  'text/jscript',
  'text/livescript',
  'text/x-ecmascript',
  'text/x-javascript',
]);

export interface WorkerFacts {
  /** The configuration the script sets, when it is JSON the doctor can read. */
  config: TokenBrokerConfig | null;
  build: 'bearer' | 'dpop' | 'unknown';
  /** Whether the worker signs DPoP proofs; null when the doctor cannot tell. */
  dpop: boolean | null;
  endpoints: { login: string; refresh: string; logout: string };
}

const DEFAULT_ENDPOINTS = { login: '/auth/login', refresh: '/auth/refresh', logout: '/auth/logout' };
const ASSIGNMENT = new RegExp(`self\\.${CONFIG_GLOBAL}\\s*(?:\\?\\?=|=)\\s*`);

/** The configuration a script sets, as written by configuredWorkerScript() or copy-sw (JSON up to the line's end). */
export function readConfigLine(script: string): { set: boolean; config: TokenBrokerConfig | null; error?: string } {
  const match = ASSIGNMENT.exec(script);
  if (!match) return { set: false, config: null };
  const rest = script.slice(match.index + match[0].length).split('\n', 1)[0]!.trim().replace(/;$/, '');
  try {
    const value: unknown = JSON.parse(rest);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { set: true, config: null, error: 'is not an object' };
    return { set: true, config: value as TokenBrokerConfig };
  } catch {
    // A hand-written wrapper may set it with any JavaScript: set, but unreadable here.
    return { set: true, config: null };
  }
}

/** Cache-Control: whether a cache may serve the script without asking the server. */
function checkCaching(headers: Record<string, string>, results: Results): void {
  const raw = headers['cache-control'];
  const fix = 'serve the worker script with "Cache-Control: no-cache" (CDN rules included), so every update check reaches your server';
  if (raw === undefined) {
    if (headers.expires && Date.parse(headers.expires) > Date.now()) {
      results.fail('worker_cached', `no Cache-Control, and Expires (${headers.expires}) lets caches keep the worker script`, RULE.swCache, fix);
    } else {
      results.warn('worker_cache_unset', 'no Cache-Control on the worker script: caches may keep it by heuristics', RULE.swCache, fix);
    }
    return;
  }
  const directives = new Map(
    raw.split(',').map((d) => {
      const [name, value] = d.trim().split('=', 2) as [string, string | undefined];
      return [name.toLowerCase(), value?.replace(/"/g, '')] as const;
    }),
  );
  if (directives.has('no-cache') || directives.has('no-store')) return results.pass(`worker script revalidated on every load (Cache-Control: ${raw})`);
  const ages = ['max-age', 's-maxage'].map((d) => Number(directives.get(d) ?? 0)).filter((n) => Number.isFinite(n));
  const longest = Math.max(0, ...ages);
  if (longest > 0 || directives.has('immutable')) {
    return results.fail('worker_cached', `Cache-Control "${raw}" lets caches keep the worker script for ${longest} s: fixes and updates reach users that much later`, RULE.swCache, fix);
  }
  results.pass(`worker script revalidated on every load (Cache-Control: ${raw})`);
}

/**
 * `scripts`: the worker script, then any it imports (a wrapper that sets the
 * configuration and calls importScripts('/sw.js')). `secure`: served over https.
 */
export function checkWorkerScript(answer: Answer, imported: string[], secure: boolean, results: Results): WorkerFacts {
  const facts: WorkerFacts = { config: null, build: 'unknown', dpop: null, endpoints: DEFAULT_ENDPOINTS };
  const path = new URL(answer.url).pathname;
  if (answer.status >= 300 && answer.status < 400) {
    results.fail('worker_redirect', `${path} answers ${answer.status} (a redirect to ${answer.headers.location ?? '?'}): browsers refuse redirected worker scripts`, RULE.swRedirect, 'serve the script at the URL the app registers, or register the final URL');
    return facts;
  }
  if (answer.status !== 200) {
    results.fail('worker_not_found', `${path} answers ${answer.status}`, RULE.swMime, 'serve the worker script there (npx token-broker copy-sw, or configuredWorkerScript()), or pass its path with --worker');
    return facts;
  }
  const type = (answer.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (JAVASCRIPT_TYPES.has(type)) results.pass(`worker script is JavaScript (${type})`);
  else results.fail('worker_not_javascript', `${path} is served as "${type || 'no Content-Type'}": browsers refuse to register it`, RULE.swMime, 'serve it with "Content-Type: text/javascript"');
  checkCaching(answer.headers, results);

  const sources = [answer.body, ...imported];
  const all = sources.join('\n');
  const standalone = all.includes(CONFIG_GLOBAL);
  facts.build = standaloneBuild(all) ?? 'unknown';
  const line = readConfigLine(answer.body);
  if (!standalone && !line.set) {
    results.info('worker_custom', `${path} is not a standalone broker script (no ${CONFIG_GLOBAL}): its configuration is in installTokenBroker()'s argument, which the doctor cannot read; token endpoints are taken as the defaults`);
    facts.dpop = facts.build === 'dpop' ? null : false;
    return facts;
  }
  if (!line.set) {
    results.fail('worker_config_missing', `${path} sets no self.${CONFIG_GLOBAL}: the worker answers every call with bad_config and intercepts nothing`, RULE.config, 'serve it with configuredWorkerScript(), or copy it with npx token-broker copy-sw (which writes the line, {} when there is nothing to set)');
    return facts;
  }
  if (line.error) {
    results.fail('worker_config_invalid', `self.${CONFIG_GLOBAL} ${line.error}`, RULE.config, 'set it to a JSON object of the worker configuration');
    return facts;
  }
  if (line.config === null) {
    results.info('worker_config_unreadable', `self.${CONFIG_GLOBAL} is set, but not as JSON on one line: its keys are not checked; token endpoints are taken as the defaults`);
  } else {
    try {
      checkWorkerConfig(line.config);
      results.pass(`configuration line present and valid (${JSON.stringify(line.config).slice(0, 120)})`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      results.fail('worker_config_invalid', `the worker refuses its configuration: ${err.message}`, RULE.config, 'fix that key where the script is served (WORKER_CONFIG, configuredWorkerScript(), copy-sw --config)');
      return facts;
    }
    facts.config = line.config;
    facts.endpoints = { ...DEFAULT_ENDPOINTS, ...line.config.endpoints };
  }
  // sw-dpop.js has dpop on unless its configuration says otherwise; sw.js refuses dpop: true.
  const asked = facts.config?.dpop;
  if (facts.build === 'bearer' && asked === true) {
    results.fail('worker_dpop_unsupported', `the configuration sets dpop: true, but ${path} is the bearer build (sw.js), which refuses it with bad_config`, RULE.dpopBuild, 'serve sw-dpop.js (copy-sw --dpop), or drop dpop: true');
  }
  if (facts.build === 'dpop') facts.dpop = facts.config ? asked !== false : null;
  else facts.dpop = false;
  if (facts.build !== 'unknown') results.pass(`worker build: ${facts.build === 'dpop' ? 'sw-dpop.js (DPoP)' : 'sw.js (bearer)'}${facts.dpop ? ', DPoP on' : ''}`);
  if (secure && all.includes(BUILD_MARKERS.dev)) {
    results.warn('worker_dev_build', `${path} is a development build (full messages, console warnings) served over https`, RULE.config, 'serve the production build (copy-sw without --dev, sw.js / sw-dpop.js rather than the .dev.js files)');
  }
  return facts;
}
