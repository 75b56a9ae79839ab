// Under server-side rendering there is no navigator: the client must reject
// with a code, not throw a ReferenceError, when imported and called in Node.
import { expect, test } from '@playwright/test';
import type * as Client from './index';

test('registerTokenBroker() without a browser rejects with unsupported', async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  // Node 21+ has a navigator of its own; Node 20 has none. Either way, no service workers.
  if (saved) Reflect.deleteProperty(globalThis, 'navigator');
  try {
    // The built module, as an SSR framework would load it (workbox-window bundled in).
    const { registerTokenBroker } = (await import('../dist/client/index.js' as string)) as typeof Client;
    await expect(registerTokenBroker()).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('server-side rendering') });
  } finally {
    if (saved) Object.defineProperty(globalThis, 'navigator', saved);
  }
});
