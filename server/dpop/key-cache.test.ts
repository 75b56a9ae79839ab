// The proof key cache: one import per key, and no header the import would refuse gets by it.
import { expect, test } from '@playwright/test';
import { exportJWK, generateKeyPair, type FlattenedJWSInput } from 'jose';
import { ProofKeyCache } from './key-cache';

const token = {} as FlattenedJWSInput;

async function publicHeader() {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { header: { alg: 'ES256', jwk: await exportJWK(pair.publicKey) }, privateJwk: await exportJWK(pair.privateKey) };
}

test('a key is imported once and keeps its thumbprint', async () => {
  const cache = new ProofKeyCache();
  const { header } = await publicHeader();
  const first = await cache.resolve(header, token);
  const again = await cache.resolve({ alg: 'ES256', jwk: { ...header.jwk } }, token);
  expect(again).toBe(first);
  expect(first.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

test('a cached public key does not let the same key with its private part, or another alg, through', async () => {
  const cache = new ProofKeyCache();
  const { header, privateJwk } = await publicHeader();
  await cache.resolve(header, token);
  await expect(cache.resolve({ alg: 'ES256', jwk: privateJwk }, token)).rejects.toThrow(/public key/);
  await expect(cache.resolve({ alg: 'ES384', jwk: header.jwk }, token)).rejects.toThrow();
  // A refused header is not remembered as good.
  await expect(cache.resolve({ alg: 'ES256', jwk: privateJwk }, token)).rejects.toThrow(/public key/);
});

test('the cache is bounded: the least recently used key is imported again', async () => {
  const cache = new ProofKeyCache(2);
  const [a, b, c] = await Promise.all([publicHeader(), publicHeader(), publicHeader()]);
  const firstA = await cache.resolve(a.header, token);
  const firstB = await cache.resolve(b.header, token);
  expect(await cache.resolve(a.header, token)).toBe(firstA);
  await cache.resolve(c.header, token);
  // b was the least recently used: it went, a stayed.
  expect(await cache.resolve(a.header, token)).toBe(firstA);
  const againB = await cache.resolve(b.header, token);
  expect(againB).not.toBe(firstB);
  expect(againB.jkt).toBe(firstB.jkt);
});
