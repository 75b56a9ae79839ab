// close() lets a refresh in flight finish before the store goes away, and
// then does not wait on the connection it came by.
import { expect, test } from '@playwright/test';
import { connect } from 'node:net';
import { startServer } from './app';
import { openSqliteStore } from '../server/store/sqlite';
import type { RefreshStore } from '../server/store/types';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };
// The default cookie when the browser is on http to 127.0.0.1 (these requests send that Origin, as the worker does).
const COOKIE = 'broker_rt';

test('a refresh in flight when close() is called completes, and the store closes after it', async () => {
  const base = openSqliteStore(':memory:');
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const rotating = new Promise<void>((r) => (entered = r));
  const store: RefreshStore = {
    ...base,
    async rotate(...args) {
      entered();
      await gate;
      const result = await base.rotate(...args);
      events.push('rotated');
      return result;
    },
    async close() {
      events.push('store closed');
      await base.close();
    },
  };
  const server = await startServer({ dpop: 'optional', dpopNonce: false }, { store });
  const login = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { ...SAME_ORIGIN, origin: server.url, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
  });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  expect(cookie).toMatch(new RegExp(`^${COOKIE}=.+`));

  const refresh = fetch(`${server.url}/auth/refresh`, { method: 'POST', headers: { ...SAME_ORIGIN, origin: server.url, cookie } });
  await rotating;
  const closed = server.close().then(() => events.push('server closed'));
  await new Promise((r) => setTimeout(r, 100));
  expect(events).toEqual([]); // close() is waiting for the refresh
  release();
  const res = await refresh;
  expect(res.status).toBe(200);
  expect(res.headers.getSetCookie()[0]).toMatch(new RegExp(`^${COOKIE}=[A-Za-z0-9_-]{43};`));
  // Within a second, not after the 72 s keep-alive timeout of the connection the refresh used.
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('close() still waiting')), 1_000))]);
  expect(events).toEqual(['rotated', 'store closed', 'server closed']);
});

test('a socket that never sends a request (a browser preconnect) does not keep close() waiting past the grace period', async () => {
  const server = await startServer({ dpop: 'optional', dpopNonce: false });
  const socket = connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const started = Date.now();
  await server.close();
  await closed;
  // Without the deadline Node waits for its headers timeout (60 s) on such a socket.
  expect(Date.now() - started).toBeLessThan(8_000);
});
