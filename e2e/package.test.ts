// What `npm publish` would ship: the entry points, their types, the worker
// scripts, and nothing else (no sources, tests, server or demo).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

interface Exports {
  [subpath: string]: string | { types?: string; import?: string };
}

test('the package holds every exported file, type declarations included, and nothing else', () => {
  // npm test has built dist/ (with declarations) first.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Exports };

  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const paths = typeof target === 'string' ? [target] : [target.types, target.import];
    for (const p of paths) {
      expect(p, subpath).toBeDefined();
      expect(files.has(p!.replace(/^\.\//, '')), `${subpath} -> ${p}`).toBe(true);
    }
  }
  for (const required of ['README.md', 'CHANGELOG.md', 'LICENSE', 'package.json', 'public/sw.js', 'public/sw-dpop.js']) {
    expect(files.has(required), required).toBe(true);
  }
  for (const path of files) {
    expect(path, path).not.toMatch(/\.ts$(?<!\.d\.ts)|\.test\.|^server\/|^dist\/server\/|^dist\/bench\/|^dist\/examples\/|^e2e\/|^public\/demo|^examples\//);
  }
});
