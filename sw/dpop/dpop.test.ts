// The pure DPoP parts of the worker, in Node (its WebCrypto is the browser's
// API): the proofs they make must pass the reference server's verification.
import { expect, test } from '@playwright/test';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, EmbeddedJWK, exportJWK, jwtVerify } from 'jose';
import { accessTokenHash, DpopVerifier } from '../../server/dpop/verifier';
import { DpopNonces } from '../../server/dpop/nonces';
import { memoryJtiStore } from '../../server/store/jti';
import { DPOP_KEY, DpopKeyStore, generateDpopKey, type KeyValue } from './key-store';
import { freshProofMayHelp, isNonceChallenge, NonceBook } from './nonce';
import { htuOf, signProof } from './proof';

test('htu drops query and fragment, keeps the path as the URL parser normalises it', () => {
  expect(htuOf('https://app.example/api/x?q=1#f')).toBe('https://app.example/api/x');
  expect(htuOf('HTTPS://App.Example:443/api/../api/y')).toBe('https://app.example/api/y');
  expect(htuOf('http://127.0.0.1:8080/api/me')).toBe('http://127.0.0.1:8080/api/me');
});

test('claims name the request, carry ath only for API requests and the nonce only when there is one', async () => {
  const key = await generateDpopKey();
  const token = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
  const refresh = decodeJwt(await signProof(key, { method: 'post', url: 'https://a.example/auth/refresh?x' }));
  expect(refresh).toMatchObject({ htm: 'POST', htu: 'https://a.example/auth/refresh' });
  expect(refresh).not.toHaveProperty('ath');
  expect(refresh).not.toHaveProperty('nonce');
  const api = decodeJwt(await signProof(key, { method: 'GET', url: 'https://a.example/api/me#f', accessToken: token, nonce: 'n' }));
  // The RFC's own example (section 7.1).
  expect(api).toMatchObject({ htm: 'GET', htu: 'https://a.example/api/me', ath: 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo', nonce: 'n' });
  expect(decodeJwt(await signProof(key, { method: 'GET', url: 'https://a.example/api/me', nonce: null }))).not.toHaveProperty('nonce');
});

test('a signed proof has the header RFC 9449 asks for, a fresh jti each time, and no private key material', async () => {
  const key = await generateDpopKey();
  expect(key.privateKey.extractable).toBe(false);
  const [a, b] = [await signProof(key, { method: 'GET', url: 'https://a.example/api/me' }), await signProof(key, { method: 'GET', url: 'https://a.example/api/me' })];
  const { kty, crv, x, y } = await exportJWK(key.publicKey);
  expect(decodeProtectedHeader(a)).toEqual({ alg: 'ES256', typ: 'dpop+jwt', jwk: { kty, crv, x, y } });
  expect(decodeJwt(a).jti).not.toBe(decodeJwt(b).jti);
  expect(Math.abs((decodeJwt(a).iat as number) - Date.now() / 1000)).toBeLessThan(2);
  await expect(jwtVerify(a, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] })).resolves.toBeTruthy();
});

test('the reference server accepts the worker\'s proofs, with the thumbprint of the worker\'s key', async () => {
  const key = await generateDpopKey();
  const verifier = new DpopVerifier(memoryJtiStore(), { nonces: new DpopNonces(), requireNonce: false });
  const token = 'header.payload.signature';
  const proof = await signProof(key, { method: 'GET', url: 'http://localhost/api/me?x=1', accessToken: token });
  expect(decodeJwt(proof).ath).toBe(accessTokenHash(token));
  expect(await verifier.verify(proof, { method: 'GET', url: 'http://localhost/api/me', accessToken: token })).toEqual({
    ok: true,
    jkt: await calculateJwkThumbprint(await exportJWK(key.publicKey)),
    clockSkew: 0,
  });
});

test('the nonce book keeps the latest nonce per origin, from any response', () => {
  const book = new NonceBook();
  expect(book.get('https://a.example/api/me')).toBeNull();
  expect(book.observe('https://a.example/auth/login', new Headers({ 'dpop-nonce': 'n1' }))).toBe(true);
  expect(book.observe('https://a.example/api/x', new Headers({ 'dpop-nonce': 'n1' }))).toBe(false);
  expect(book.observe('https://a.example/api/x', new Headers())).toBe(false);
  expect(book.get('https://a.example/api/me?q')).toBe('n1');
  book.observe('https://a.example/api/x', new Headers({ 'dpop-nonce': 'n2' }));
  expect(book.get('https://a.example/')).toBe('n2');
  expect(book.get('https://b.example/')).toBeNull();
});

test('a nonce challenge is a 401 with use_dpop_nonce or a 400 with that error, and always carries the nonce', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  const nonce = { 'dpop-nonce': 'n' };
  expect(isNonceChallenge(401, h({ ...nonce, 'www-authenticate': 'DPoP error="use_dpop_nonce", algs="ES256"' }))).toBe(true);
  expect(isNonceChallenge(401, h({ 'www-authenticate': 'DPoP error="use_dpop_nonce"' }))).toBe(false);
  expect(isNonceChallenge(401, h({ ...nonce, 'www-authenticate': 'DPoP error="invalid_dpop_proof"' }))).toBe(false);
  expect(isNonceChallenge(400, h(nonce), { error: 'use_dpop_nonce' })).toBe(true);
  expect(isNonceChallenge(400, h(nonce), { error: 'invalid_dpop_proof' })).toBe(false);
  expect(isNonceChallenge(400, h(nonce), null)).toBe(false);
  expect(isNonceChallenge(200, h(nonce), { error: 'use_dpop_nonce' })).toBe(false);
});

test('a fresh proof is tried for a nonce challenge and for a token endpoint refusing the proof, never for an API refusal or another error', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  expect(freshProofMayHelp(400, h({ 'dpop-nonce': 'n' }), { error: 'use_dpop_nonce' })).toBe(true);
  // A resent request's spent jti, with or without a nonce in the answer.
  expect(freshProofMayHelp(400, h({}), { error: 'invalid_dpop_proof' })).toBe(true);
  expect(freshProofMayHelp(400, h({}), { error: 'invalid_grant' })).toBe(false);
  expect(freshProofMayHelp(401, h({ 'www-authenticate': 'DPoP error="invalid_dpop_proof"' }))).toBe(false);
  expect(freshProofMayHelp(401, h({}), { error: 'invalid_dpop_proof' })).toBe(false);
});

test('the key store keeps the pair as CryptoKeys (structured clone, as IndexedDB does) and still signs after a reload', async () => {
  const map = new Map<string, unknown>();
  const kv: KeyValue = {
    get: async (k) => structuredClone(map.get(k)),
    set: async (k, v) => void map.set(k, structuredClone(v)),
    del: async (k) => void map.delete(k),
  };
  const store = new DpopKeyStore(kv);
  expect(await store.load()).toBeNull();
  const key = await generateDpopKey();
  await store.save(key);
  expect(Object.keys(map.get(DPOP_KEY) as object).sort()).toEqual(['privateKey', 'publicKey']);
  const loaded = (await store.load()) as CryptoKeyPair;
  expect(loaded.privateKey.extractable).toBe(false);
  expect(await exportJWK(loaded.publicKey)).toEqual(await exportJWK(key.publicKey));
  const proof = await signProof(loaded, { method: 'POST', url: 'https://a.example/auth/refresh' });
  const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
  expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(await calculateJwkThumbprint(await exportJWK(key.publicKey)));
  await store.delete();
  expect(await store.load()).toBeNull();
  map.set(DPOP_KEY, { privateKey: 'not a key' });
  expect(await store.load()).toBeNull();
});

test('the key store refuses a pair whose private half is extractable (page script can plant one and export it)', async () => {
  const map = new Map<string, unknown>();
  const store = new DpopKeyStore({ get: async (k) => map.get(k), set: async (k, v) => void map.set(k, v), del: async (k) => void map.delete(k) });
  map.set(DPOP_KEY, await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']));
  expect(await store.load()).toBe(false);
});

test('the nonce book survives a worker restart through what it saves, and ignores anything else stored there', () => {
  const book = new NonceBook();
  book.observe('https://a.example/api/x', new Headers({ 'dpop-nonce': 'n1' }));
  const restarted = new NonceBook();
  restarted.restore(structuredClone(book.saved()));
  expect(restarted.get('https://a.example/api/me')).toBe('n1');
  // A nonce seen since the start wins over the saved one.
  const fresher = new NonceBook();
  fresher.observe('https://a.example/', new Headers({ 'dpop-nonce': 'n2' }));
  fresher.restore(book.saved());
  expect(fresher.get('https://a.example/')).toBe('n2');
  for (const junk of [null, 'x', [1, 2], [['https://a.example']], { a: 1 }]) {
    const b = new NonceBook();
    b.restore(junk);
    expect(b.get('https://a.example/')).toBeNull();
  }
});
