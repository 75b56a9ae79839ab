import { expect, test } from '@playwright/test';
import { jsonDepth } from './json-depth';

test('depth counts objects and arrays, scalars are 0', () => {
  expect(jsonDepth(1)).toBe(0);
  expect(jsonDepth(null)).toBe(0);
  expect(jsonDepth({})).toBe(1);
  expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
  expect(jsonDepth([[], [[[]]]])).toBe(4);
});

test('a body far deeper than any stack is measured without recursion', () => {
  const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
  expect(jsonDepth(deep)).toBe(100_000);
});
