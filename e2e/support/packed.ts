// The package as `npm pack` makes it, once per test process: the specs that
// install it as an adopter would share one tarball.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let tarball: string | null = null;

/** The path of the packed tarball (npm test has built dist/, types included, already). */
export function packedTarball(): string {
  if (!tarball) {
    const dir = mkdtempSync(join(tmpdir(), 'broker-pack-'));
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { stdio: 'ignore' });
    tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
  }
  return tarball;
}

/**
 * Installs the tarball as token-broker, and `dependencies`, into `dir` (from the registry or
 * npm's cache), keeping what a package.json already there says besides.
 */
export function installInto(dir: string, dependencies: Record<string, string> = {}): void {
  const file = join(dir, 'package.json');
  const manifest = (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { name: 'adopter', private: true, type: 'module' }) as {
    dependencies?: Record<string, string>;
  };
  manifest.dependencies = { ...manifest.dependencies, ...dependencies, 'token-broker': `file:${packedTarball()}` };
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: 'ignore' });
}
