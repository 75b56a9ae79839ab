// `token-broker copy-sw`, the built command as the package ships it: the
// production script or, with --dev, the development one under the same name.
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function copySw(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'broker-copy-sw-'));
  const run = spawnSync(process.execPath, ['dist/bin/token-broker.js', 'copy-sw', dir, ...args], { encoding: 'utf8' });
  return { dir, ...run };
}

// A message of the development build that the production one leaves out.
const FULL_MESSAGE = 'is reserved for the token broker worker';

test('copies the production script with its configuration on the first line, and its map', () => {
  const { dir, status } = copySw('--config', '{"exposeClaims":["sub","name"]}');
  expect(status).toBe(0);
  const script = readFileSync(join(dir, 'sw.js'), 'utf8');
  expect(script.split('\n')[0]).toBe('self.tokenBrokerConfig??={"exposeClaims":["sub","name"]};');
  expect(script).not.toContain(FULL_MESSAGE);
  // The production build logs no warnings (its errors still reach the console).
  expect(script).not.toContain('console.warn');
  expect(script.trimEnd().endsWith('//# sourceMappingURL=sw.js.map')).toBe(true);
  expect(JSON.parse(readFileSync(join(dir, 'sw.js.map'), 'utf8')).mappings.startsWith(';')).toBe(true);
});

test('--dev copies the development build under the same name, pointing at its map by that name', () => {
  const { dir, status } = copySw('--dpop', '--dev');
  expect(status).toBe(0);
  const script = readFileSync(join(dir, 'sw-dpop.js'), 'utf8');
  // Without --config the line is written all the same: a script without it runs nothing.
  expect(script.split('\n')[0]).toBe('self.tokenBrokerConfig??={};');
  expect(script).toContain(FULL_MESSAGE);
  expect(script).toContain('console.warn');
  expect(script.trimEnd().endsWith('//# sourceMappingURL=sw-dpop.js.map')).toBe(true);
  expect(readFileSync(join(dir, 'sw-dpop.js.map'), 'utf8')).toContain('"mappings":";');
});

test('a configuration the worker would refuse is refused here, with the full message', () => {
  const { status, stderr } = copySw('--config', '{"apiPrefixes":["/"]}');
  expect(status).toBe(2);
  expect(stderr).toContain('apiPrefixes[0] must be narrower than "/"');
});

test('a mistyped key is refused with "did you mean", before anything is written', () => {
  const { status, stderr } = copySw('--config', '{"refreshBeforeExpiri":60}');
  expect(status).toBe(2);
  expect(stderr).toContain('--config: token broker config: refreshBeforeExpiri is not a known option; did you mean refreshBeforeExpiry?');
});
