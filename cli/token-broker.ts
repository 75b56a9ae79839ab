// `token-broker copy-sw <dir> [--dpop] [--dev] [--config <json>]`: writes the
// standalone worker script, with its configuration fixed in it, into a
// folder your build serves from the site root (Vite's public/, for one), so
// no server code is needed to serve it. The configuration is checked first,
// with full messages. `--dev` copies the development build (full messages in
// the browser too) under the same name, so the registration does not change.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, type TokenBrokerConfig } from '../sw/config';
import { checkWorkerConfig, configuredSourceMap, configuredWorkerScript } from '../server/core/worker-script';
import { doctorCommand } from './doctor/command';

const USAGE = 'usage: token-broker copy-sw <dir> [--dpop] [--dev] [--config <json>]\n       token-broker doctor <url> [--help]';

// `token-broker doctor <url>` (cli/doctor/): checks a running deployment.
if (process.argv[2] === 'doctor') process.exit(await doctorCommand(process.argv.slice(3)));

function fail(message: string): never {
  console.error(`token-broker: ${message}`);
  process.exit(2);
}

const { positionals, values } = (() => {
  try {
    return parseArgs({ allowPositionals: true, options: { dpop: { type: 'boolean', default: false }, dev: { type: 'boolean', default: false }, config: { type: 'string', default: '{}' } } });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`);
  }
})();
const [command, dir] = positionals;
if (command !== 'copy-sw' || !dir || positionals.length > 2) fail(USAGE);

let config: TokenBrokerConfig;
try {
  config = JSON.parse(values.config) as TokenBrokerConfig;
  checkWorkerConfig(config);
} catch (err) {
  fail(err instanceof ConfigError ? `--config: ${err.message}` : `--config must be a JSON object: ${(err as Error).message}`);
}

const name = values.dpop ? 'sw-dpop.js' : 'sw.js';
// This file is dist/bin/token-broker.js; the built scripts are in public/.
const built = new URL(`../../public/${values.dev ? name.replace(/\.js$/, '.dev.js') : name}`, import.meta.url);
mkdirSync(dir, { recursive: true });
// Under the copied name, the script points at its map by that name.
const script = readFileSync(built, 'utf8').replace(/\/\/# sourceMappingURL=\S+/, `//# sourceMappingURL=${name}.map`);
writeFileSync(join(dir, name), configuredWorkerScript(script, config));
writeFileSync(join(dir, `${name}.map`), configuredSourceMap(readFileSync(new URL(`${built.pathname.split('/').pop()}.map`, built), 'utf8')));
console.log(`token-broker: wrote ${join(dir, name)}; register it with registerTokenBroker({ scriptURL: '/${name}' })`);
