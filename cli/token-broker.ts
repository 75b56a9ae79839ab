// `token-broker copy-sw <dir> [--dpop] [--dev] [--config <json>]`: writes the
// standalone worker script, with its configuration fixed in it, into a
// folder your build serves from the site root (Vite's public/, for one), so
// no server code is needed to serve it. The configuration is checked first,
// with full messages. `--dev` copies the development build (full messages in
// the browser too) under the same name, so the registration does not change.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, type TokenBrokerConfig } from '../sw/config';
import { checkWorkerConfig } from '../server/core/worker-script';
import { workerFiles } from './worker-files';
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

// This file is dist/bin/token-broker.js; the built scripts are in public/.
const files = workerFiles(new URL('../../public/', import.meta.url), { dpop: values.dpop, dev: values.dev, config });
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, files.name), files.script);
writeFileSync(join(dir, `${files.name}.map`), files.map);
console.log(`token-broker: wrote ${join(dir, files.name)}; register it with registerTokenBroker({ scriptURL: '/${files.name}' })`);
