// The in-memory store: the shared conformance suite.
import { test } from '@playwright/test';
import { storeConformance } from './conformance';
import { memoryStoreBacking } from './memory';

for (const c of storeConformance(async () => {
  const backing = memoryStoreBacking();
  return { open: async () => backing.open(), dispose: async () => undefined };
})) test(`memory store conformance: ${c.name}`, c.run);
