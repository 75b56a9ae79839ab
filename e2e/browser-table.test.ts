// The README's browser tables against the cross-engine scenarios: every row is
// a scenario scenarios.ts runs, every scenario has a row, and a cell is either
// proven (each engine's own run checks that it passed there) or says the limit.
// The feature table has a yes or no per engine (the features scenario checks it).
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { ENGINES, FEATURE_ROWS, parseTable, PROVEN, readmeTables } from './engines/browser-table';
import { SCENARIO } from './engines/scenario-names';

test('every row of the browser table is a scenario the engine specs run, and every scenario has a row', () => {
  const { scenarios } = readmeTables();
  const names = Object.values(SCENARIO) as string[];
  expect([...scenarios.keys()].filter((row) => !names.includes(row))).toEqual([]);
  expect(names.filter((name) => !scenarios.has(name))).toEqual([]);
  // Each name is a test title there, not just a string in the list.
  const source = readFileSync('e2e/engines/scenarios.ts', 'utf8');
  for (const key of Object.keys(SCENARIO)) expect(source, key).toMatch(new RegExp(`SCENARIO\\.${key}\\b`));
  for (const [name, cells] of scenarios) {
    for (const engine of ENGINES) expect(cells[engine] === PROVEN || cells[engine].length > 10, `${name} in ${engine}: ✓ or the limit, in words`).toBe(true);
  }
});

test('the feature table says yes or no for each engine and each feature the scenario reads', () => {
  const { features } = readmeTables();
  expect([...features.keys()].sort()).toEqual(Object.values(FEATURE_ROWS).sort());
  for (const cells of features.values()) for (const engine of ENGINES) expect(['yes', 'no']).toContain(cells[engine]);
});

test('the table parser reads cells by column name and refuses a name twice', () => {
  const table = parseTable('x\n| scenario | Firefox | WebKit | Chromium |\n|---|---|---|---|\n| a | ✓ | no | ✓ |\n\n| b |', 'scenario');
  expect([...table]).toEqual([['a', { Chromium: '✓', WebKit: 'no', Firefox: '✓' }]]);
  expect(() => parseTable('| scenario | Chromium | WebKit | Firefox |\n|-|-|-|-|\n| a | | | |\n| a | | | |', 'scenario')).toThrow(/twice/);
});
