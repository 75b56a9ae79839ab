import { expect, test } from '@playwright/test';
import { RefreshTokens } from './refresh-tokens';
import { openSqliteStore } from './store/sqlite';

const policy = { idleMs: 60_000, absoluteMs: 600_000, graceMs: 5_000 };

function setup() {
  return new RefreshTokens(openSqliteStore(':memory:'), policy);
}

test('each use rotates the token; the successor works and the user is kept', async () => {
  const tokens = setup();
  const first = await tokens.issue('alice', 0);
  const second = await tokens.rotate(first, 1_000);
  expect(second).toMatchObject({ ok: true, userId: 'alice' });
  if (!second.ok) return;
  expect(second.token).not.toBe(first);
  expect(await tokens.rotate(second.token, 2_000)).toMatchObject({ ok: true, userId: 'alice' });
});

test('a duplicate within the grace window gets the same successor', async () => {
  const tokens = setup();
  const first = await tokens.issue('alice', 0);
  const a = await tokens.rotate(first, 1_000);
  const b = await tokens.rotate(first, 1_000 + policy.graceMs);
  expect(a.ok && b.ok && a.token === b.token).toBe(true);
});

test('reuse of a rotated token outside the grace window revokes the whole family', async () => {
  const tokens = setup();
  const first = await tokens.issue('alice', 0);
  const second = await tokens.rotate(first, 1_000);
  expect(await tokens.rotate(first, 1_001 + policy.graceMs)).toEqual({ ok: false, reason: 'reused' });
  expect(second.ok && (await tokens.rotate(second.token, 7_000))).toEqual({ ok: false, reason: 'revoked' });
});

test('only the immediate predecessor gets grace: an older ancestor revokes', async () => {
  const tokens = setup();
  const first = await tokens.issue('alice', 0);
  const second = await tokens.rotate(first, 100);
  expect(second.ok).toBe(true);
  if (!second.ok) return;
  await tokens.rotate(second.token, 200);
  expect(await tokens.rotate(first, 300)).toEqual({ ok: false, reason: 'reused' });
});

test('idle and absolute lifetimes end a family', async () => {
  const tokens = setup();
  const idle = await tokens.issue('alice', 0);
  expect(await tokens.rotate(idle, policy.idleMs)).toEqual({ ok: false, reason: 'expired' });

  let token = await tokens.issue('bob', 0);
  for (let t = 50_000; t < policy.absoluteMs; t += 50_000) {
    const next = await tokens.rotate(token, t);
    if (!next.ok) throw new Error(`rotation at ${t} failed: ${next.reason}`);
    token = next.token;
  }
  expect(await tokens.rotate(token, policy.absoluteMs)).toEqual({ ok: false, reason: 'expired' });
});

test('logout and sign-out-everywhere revoke; unknown and malformed tokens are refused', async () => {
  const tokens = setup();
  const a = await tokens.issue('alice', 0);
  const b = await tokens.issue('alice', 0);
  const c = await tokens.issue('bob', 0);
  expect(await tokens.revoke(a, 10)).toBe('alice');
  expect(await tokens.rotate(a, 20)).toEqual({ ok: false, reason: 'revoked' });
  expect(await tokens.revokeUser('alice', 30)).toBe(1);
  expect(await tokens.rotate(b, 40)).toEqual({ ok: false, reason: 'revoked' });
  expect(await tokens.rotate(c, 40)).toMatchObject({ ok: true, userId: 'bob' });
  expect(await tokens.rotate('A'.repeat(43), 50)).toEqual({ ok: false, reason: 'unknown' });
  expect(await tokens.rotate('not a token', 50)).toEqual({ ok: false, reason: 'malformed' });
});
