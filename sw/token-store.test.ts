// Review (brief R): what a worker in memory mode takes from the origin's
// IndexedDB when it starts. Page script of the origin can write that record
// (the same origin shares IndexedDB), so in memory mode nothing in it may
// become the session's token. A minimal in-memory IndexedDB stands in for
// the browser's.
import { expect, test } from '@playwright/test';
import { createStore, get, set } from 'idb-keyval';
import { installFakeIndexedDb } from '../test-support/fake-indexeddb';
import { TokenStore } from './token-store';
import type { TokenRecord } from './token-response';

installFakeIndexedDb();

const planted: TokenRecord = {
  accessToken: 'planted-by-page-script',
  tokenType: 'Bearer',
  expiresAt: null,
  refreshAt: null,
  claims: { sub: 'alice', role: 'admin' },
  sub: 'alice',
};

test('memory mode: a token that page script wrote into the worker\'s record is not taken as the session on start', async () => {
  // What page script does: open the worker's database and write its `session` record.
  await set('session', { token: planted, signedOut: false, sub: 'alice' }, createStore('token-broker', 'records'));
  const store = new TokenStore('memory');
  await store.ready();
  // Memory mode keeps the token in worker memory only: a restarted worker has none and restores with a silent refresh.
  expect(store.current?.accessToken).toBeUndefined();
});

test('memory mode: a token record left in IndexedDB (an upgrade from the old indexeddb default, or planted) is scrubbed once the worker starts', async () => {
  const db = createStore('token-broker', 'records');
  await set('session', { token: planted, signedOut: false, sub: 'alice' }, db);
  const store = new TokenStore('memory');
  await store.ready();
  expect(((await get('session', store.db)) as { token: unknown } | undefined)?.token ?? null).toBeNull();
});
