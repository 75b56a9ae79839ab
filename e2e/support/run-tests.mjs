// `npm test`'s two Playwright runs: unit and e2e on one worker, then the three
// engine projects side by side (docs/development.md says why). Both always run;
// the exit code is the first failure's. Every failure of either run is printed
// again at the very end (e2e/support/failure-log.ts), where a CI log's tail shows it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUNS = [
  ['unit and e2e', ['--project=unit', '--project=e2e']],
  ['engines', ['--project=chromium-engines', '--project=webkit', '--project=firefox', '--workers=3']],
];

const dir = mkdtempSync(join(tmpdir(), 'broker-test-failures-'));
const log = join(dir, 'failures.log');
const outcomes = [];
for (const [name, args] of RUNS) {
  const run = spawnSync('npx', ['playwright', 'test', ...args, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, BROKER_FAILURE_LOG: log },
  });
  outcomes.push({ name, status: run.status ?? 1 });
}

let failures = '';
try {
  failures = readFileSync(log, 'utf8');
} catch {
  // No test failed (a run can still fail before its tests, for a config or compile error).
}
rmSync(dir, { recursive: true, force: true });
console.log(`\n${outcomes.map((o) => `${o.name}: ${o.status === 0 ? 'passed' : `failed (exit ${o.status})`}`).join('; ')}`);
if (failures) console.log(`\nThe failures of this npm test, again:\n\n${failures}`);
process.exit(outcomes.find((o) => o.status !== 0)?.status ?? 0);
