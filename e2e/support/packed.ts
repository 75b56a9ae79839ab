// The package as `npm pack` makes it, once per test process: the specs that
// install it as an adopter would share one tarball.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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

/** The version this repository's lockfile installed of `name`, if it did. */
function lockedVersion(name: string): string | undefined {
  const file = join('node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
}

/**
 * Installs the tarball as token-broker, and `dependencies`, into `dir` (from the registry or
 * npm's cache), keeping what a package.json already there says besides. A dependency this
 * repository also installs is pinned to the lockfile's version: a range resolves to whatever
 * the registry published last, and a release whose own dependencies a mirror has not caught
 * up with (vue 3.5.46 before @vue/compiler-dom 3.5.46) failed CI for no fault of ours.
 */
export function installInto(dir: string, dependencies: Record<string, string> = {}): void {
  const file = join(dir, 'package.json');
  const manifest = (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { name: 'adopter', private: true, type: 'module' }) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const pin = (deps: Record<string, string> = {}) =>
    Object.fromEntries(Object.entries(deps).map(([name, range]) => [name, lockedVersion(name) ?? range]));
  manifest.dependencies = { ...pin({ ...manifest.dependencies, ...dependencies }), 'token-broker': `file:${packedTarball()}` };
  if (manifest.devDependencies) manifest.devDependencies = pin(manifest.devDependencies);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    throw new Error(`npm install in ${dir} failed:\n${String((err as { stderr?: string }).stderr)}`, { cause: err });
  }
}

export interface ExampleServer {
  url: string;
  process: ChildProcess;
}

/** Starts the installed Express example in `dir` on a free loopback port, with `env` added. */
export async function startExampleServer(dir: string, env: Record<string, string> = {}): Promise<ExampleServer> {
  const child = spawn(process.execPath, ['server.js'], {
    cwd: dir,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(out);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the example exited with ${code}: ${out}`)));
  });
  return { url, process: child };
}
