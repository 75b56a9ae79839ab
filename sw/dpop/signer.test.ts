// The signer's refusal of a key page script planted, in Node with a minimal
// IndexedDB: the worker reads the key at start and again under the refresh
// lock, and both reads can land before the planted pair is deleted.
import { expect, test } from '@playwright/test';
import { createStore, get, set } from 'idb-keyval';
import { installFakeIndexedDb } from '../../test-support/fake-indexeddb';
import { DPOP_KEY } from './key-store';
import { dpopSupport } from './signer';

installFakeIndexedDb();

test('a planted extractable key is refused once: a re-read while it is being deleted does not end the session a second time', async () => {
  const db = createStore('token-broker-signer-test', 'records');
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  await set(DPOP_KEY, { privateKey: pair.privateKey, publicKey: pair.publicKey }, db);
  let refusals = 0;
  const signer = dpopSupport(db, () => refusals++);
  // What a silent restore does right after the worker starts: reload under the lock.
  expect(await signer.reload()).toBeNull();
  expect(await signer.current()).toBeNull();
  expect(refusals).toBe(1);
  expect(await get(DPOP_KEY, db)).toBeUndefined();
  // A key planted again later is refused again: each planting ends the session it finds.
  await set(DPOP_KEY, { privateKey: pair.privateKey, publicKey: pair.publicKey }, db);
  expect(await signer.reload()).toBeNull();
  expect(refusals).toBe(2);
});
