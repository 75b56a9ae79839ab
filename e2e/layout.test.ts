// The layout of docs/architecture.md: eslint's no-restricted-imports keeps each
// folder off the floors above it; this keeps the modules themselves free of
// import cycles, which that rule cannot see inside one folder.
import { expect, test } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOTS = ['server', 'reference-server', 'test-support', 'sw', 'client', 'react', 'vue', 'cli'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].flatMap(([, spec]) => {
    const base = normalize(join(dirname(file), spec!));
    const found = [base, `${base}.ts`, join(base, 'index.ts')].find((p) => p.endsWith('.ts') && existsSync(p));
    return found ? [found] : [];
  });
}

test('the shipped halves and the reference app have no import cycle', () => {
  const graph = new Map(ROOTS.flatMap(sources).map((f) => [f, imports(f)]));
  expect(graph.size).toBeGreaterThan(50);
  const done = new Set<string>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (path.includes(file)) return void cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  expect(cycles).toEqual([]);
});
