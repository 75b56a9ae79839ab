// Reads the README's browser tables: which scenario each engine is proven on,
// and which optional browser features it has. Pure parsing, shared by the unit
// test (browser-table.test.ts) and each engine's run (scenarios.ts).
import { readFileSync } from 'node:fs';

export const ENGINES = ['Chromium', 'WebKit', 'Firefox'] as const;
export type EngineName = (typeof ENGINES)[number];

/** A proven scenario's cell; anything else in the cell is the limit the README documents. */
export const PROVEN = '✓';

export type Table = Map<string, Record<EngineName, string>>;

/** The rows of the Markdown table whose first header cell is `first`, by their first cell. */
export function parseTable(markdown: string, first: string): Table {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (start < 0) throw new Error(`no table headed "${first}"`);
  const header = cells(lines[start]!);
  const columns = ENGINES.map((e) => {
    const i = header.indexOf(e);
    if (i < 0) throw new Error(`table "${first}" has no ${e} column`);
    return i;
  });
  const rows: Table = new Map();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const row = cells(line);
    if (rows.has(row[0]!)) throw new Error(`table "${first}" names "${row[0]}" twice`);
    rows.set(row[0]!, Object.fromEntries(ENGINES.map((e, k) => [e, row[columns[k]!] ?? ''])) as Record<EngineName, string>);
  }
  return rows;
}

function cells(line: string): string[] {
  return line.replace(/^\|/, '').replace(/\|\s*$/, '').split('|').map((c) => c.trim());
}

export function readmeTables(path = 'README.md'): { scenarios: Table; features: Table } {
  const readme = readFileSync(path, 'utf8');
  return { scenarios: parseTable(readme, 'scenario'), features: parseTable(readme, 'feature') };
}

/** The feature rows, as the probe in scenarios.ts reports them. */
export const FEATURE_ROWS = {
  staticRouting: 'Static Routing API (in the worker)',
  pageLocks: 'Web Locks in the page',
  workerLocks: 'Web Locks in the service worker',
} as const;
