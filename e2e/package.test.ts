// What `npm publish` would ship: the entry points, their types, the worker
// scripts, and nothing else (no sources, tests, reference server or demo).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { expect, test } from '@playwright/test';
import { startServer } from '../reference-server/app';
import { headingAnchors, markdownLinks } from './support/markdown';
import { installInto, packedTarball } from './support/packed';

interface Exports {
  [subpath: string]: string | { types?: string; import?: string };
}

test('the package holds every exported file, type declarations included, and nothing else', () => {
  // npm test has built dist/ (with declarations) first.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [packed] = JSON.parse(out) as [{ unpackedSize: number; files: { path: string; size: number }[] }];
  const files = new Set(packed.files.map((f) => f.path));
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Exports; dependencies: Record<string, string>; sideEffects: unknown };

  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const paths = typeof target === 'string' ? [target] : [target.types, target.import];
    for (const p of paths) {
      expect(p, subpath).toBeDefined();
      expect(files.has(p!.replace(/^\.\//, '')), `${subpath} -> ${p}`).toBe(true);
    }
  }
  // Source maps ship, but do not make up most of the package.
  const maps = packed.files.filter((f) => f.path.endsWith('.map')).reduce((n, f) => n + f.size, 0);
  expect(maps / packed.unpackedSize).toBeLessThan(0.45);
  expect(pkg.sideEffects).toBe(false);
  for (const required of ['README.md', 'CHANGELOG.md', 'LICENSE', 'package.json', 'public/sw.js', 'public/sw-dpop.js', 'dist/THIRD_PARTY_LICENSES.md']) {
    expect(files.has(required), required).toBe(true);
  }
  // The examples ship as copyable source (the README links them), TypeScript included; nothing else does.
  for (const path of files) {
    expect(path, path).not.toMatch(
      /\.ts$(?<!\.d\.ts|^examples\/[\w-]+\/.*)|\.test\.|^server\/|^reference-server\/|^test-support\/|^dist\/(reference-server|test-support|soak|bench|examples)\/|^e2e\/|^public\/demo|^examples\/[^/]+$|^docs\/.*(?<!\.md)$/,
    );
  }
  // Nothing the package ships was built from the reference app, the test tooling, the tests,
  // the soak or the benchmarks: every shipped source map names library sources only.
  const mapFiles = [...files].filter((f) => f.endsWith('.map'));
  expect(mapFiles.length).toBeGreaterThan(5);
  for (const map of mapFiles) {
    const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
    expect(sources.length, map).toBeGreaterThan(0);
    for (const source of sources) expect(source, `${map}: ${source}`).not.toMatch(/(^|\/)(reference-server|test-support|e2e|soak|bench|examples)\//);
  }
});

test('bundled libraries are not runtime dependencies, and their licences ship with the package', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
  const notices = readFileSync('dist/THIRD_PARTY_LICENSES.md', 'utf8');
  const bundled = [...notices.matchAll(/^## (\S+) /gm)].map((m) => m[1]);
  expect(bundled).toEqual(['@simplewebauthn/browser', 'dpop', 'idb-keyval', 'jose', 'workbox-window']);
  // What the browser files bundle is not installed for them; jose stays, for the server half.
  for (const name of ['@simplewebauthn/browser', 'dpop', 'idb-keyval', 'workbox-window']) expect(Object.keys(pkg.dependencies)).not.toContain(name);
  // The server half's own: adding one is a decision, so it is named here.
  const serverHalf = ['jose', 'cookie', 'rate-limiter-flexible', 'fastify-plugin', 'fastest-levenshtein', 'ipaddr.js'];
  for (const name of Object.keys(pkg.dependencies)) expect(serverHalf).toContain(name);
  expect(notices).toContain('Apache License');
});

test('every link of the README, and of every markdown file the package ships, resolves inside the packed tarball', () => {
  const root = mkdtempSync(join(tmpdir(), 'broker-links-'));
  execFileSync('tar', ['-xzf', packedTarball(), '-C', root]);
  const pkg = join(root, 'package');
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const markdown = walk(pkg).filter((f) => f.endsWith('.md'));
  expect(markdown.map((f) => relative(pkg, f))).toEqual(expect.arrayContaining(['README.md', 'CHANGELOG.md', 'docs/benchmarks.md']));
  let checked = 0;
  for (const file of markdown) {
    const text = readFileSync(file, 'utf8');
    for (const href of markdownLinks(text)) {
      if (/^(https?|mailto):/.test(href)) continue;
      const where = `${relative(pkg, file)}: ${href}`;
      const [path, anchor] = href.split('#') as [string, string | undefined];
      const target = path === '' ? file : join(dirname(file), decodeURIComponent(path));
      // Inside the package, not only on this machine.
      expect(relative(pkg, target).startsWith('..'), where).toBe(false);
      expect(existsSync(target), where).toBe(true);
      if (anchor !== undefined) {
        expect(statSync(target).isFile() && target.endsWith('.md'), where).toBe(true);
        expect([...headingAnchors(readFileSync(target, 'utf8'))], where).toContain(anchor);
      }
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(10);
});

test('the doctor runs from the installed tarball (its imports are the package\'s dependencies) and passes the reference setup', async () => {
  test.setTimeout(180_000);
  const project = mkdtempSync(join(tmpdir(), 'broker-doctor-pkg-'));
  installInto(project);
  const server = await startServer();
  try {
    const { status, stdout } = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(join(project, 'node_modules/.bin/token-broker'), ['doctor', server.url, '--worker', '/sw-dpop.js', '--json'], { cwd: project });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('close', (code) => resolve({ status: code, stdout }));
    });
    const report = JSON.parse(stdout) as { ok: boolean; findings: { level: string; code: string }[] };
    expect(report.findings.filter((f) => f.level !== 'info')).toEqual([]);
    expect(status).toBe(0);
  } finally {
    await server.close();
  }
});
