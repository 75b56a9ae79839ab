// The behaviour every RefreshStore must have, runner-neutral: a list of named
// cases that any test runner can register (node:test, Playwright, Vitest...).
// Each case gets empty backing of its own. Times are logical (milliseconds
// from 0), passed as `now`, so the cases never wait. Shipped as
// `token-broker/server/testing`, so a store of your own can be held to it.
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashToken, RefreshTokens } from '../tokens/refresh-tokens';
import type { RefreshStore, RotationPolicy } from './types';

/** One empty store's data; open() may be called more than once, each a separate connection (an "instance"). */
export interface StoreBacking {
  open(): Promise<RefreshStore>;
  dispose(): Promise<void>;
}

export interface ConformanceCase {
  name: string;
  run(): Promise<void>;
}

export const POLICY: RotationPolicy = { idleMs: 60_000, absoluteMs: 600_000, graceMs: 5_000, accessListMs: 30_000 };

/**
 * Until `check` holds, for at most 2 s (real time): a connection that was open
 * before a revocation learns of it when the backing tells it (Redis: a pub/sub
 * message), not necessarily by the time the revoking call resolved.
 */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within 2 s: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface CaseContext {
  /** A RefreshTokens on a new connection to this case's backing, as another server instance would have. */
  instance(policy?: RotationPolicy): Promise<RefreshTokens>;
  /** The connections opened so far, in order. */
  opened: RefreshStore[];
  /** A bare connection to this case's backing (closed with the case). */
  open(): Promise<RefreshStore>;
}

/** Whether `actual` has every property of `expected`, recursively (arrays compared whole). */
function hasShape(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    try {
      deepStrictEqual(actual, expected);
      return true;
    } catch {
      return false;
    }
  }
  if (typeof actual !== 'object' || actual === null) return false;
  return Object.entries(expected).every(([k, v]) => hasShape((actual as Record<string, unknown>)[k], v));
}

/** The few matchers the cases use, over node:assert, so no test runner is required. */
function expect(actual: unknown) {
  return {
    toBe: (expected: unknown) => strictEqual(actual, expected),
    toEqual: (expected: unknown) => deepStrictEqual(actual, expected),
    toBeNull: () => strictEqual(actual, null),
    toHaveLength: (n: number) => strictEqual((actual as unknown[]).length, n),
    toBeGreaterThanOrEqual: (n: number) => ok((actual as number) >= n, `${String(actual)} >= ${n}`),
    toMatchObject: (expected: object) => ok(hasShape(actual, expected), `${JSON.stringify(actual)} has the shape of ${JSON.stringify(expected)}`),
  };
}

/**
 * The conformance cases for a store: register each with your runner, e.g.
 * `for (const c of storeConformance(backing)) test(c.name, c.run)` with node:test.
 */
export function storeConformance(newBacking: () => Promise<StoreBacking>): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const secret = randomBytes(32);
  const test = (name: string, body: (t: CaseContext) => Promise<void>) =>
    cases.push({
      name,
      async run() {
        const backing = await newBacking();
        const opened: RefreshStore[] = [];
        const open = async () => {
          const store = await backing.open();
          opened.push(store);
          return store;
        };
        const instance = async (policy = POLICY) => new RefreshTokens(await open(), policy, secret);
        try {
          await body({ instance, opened, open });
        } finally {
          await Promise.all(opened.map((s) => s.close()));
          await backing.dispose();
        }
      },
    });

  test('each use rotates the token; the successor works and the user is kept', async (t) => {
    const tokens = await t.instance();
    const first = (await tokens.issue('alice', 0)).token;
    const second = await tokens.rotate(first, 1_000);
    expect(second).toMatchObject({ ok: true, userId: 'alice' });
    if (!second.ok) return;
    ok(second.token !== first, 'the successor is a new token');
    expect(await tokens.rotate(second.token, 2_000)).toMatchObject({ ok: true, userId: 'alice' });
  });

  test('reuse of a rotated token after the grace window revokes the whole family', async (t) => {
    const tokens = await t.instance();
    const { token: first, familyId } = await tokens.issue('alice', 0);
    const second = await tokens.rotate(first, 1_000);
    // The reuse names its family and user (the reuse_detected event does).
    expect(await tokens.rotate(first, 1_001 + POLICY.graceMs)).toEqual({ ok: false, reason: 'reused', userId: 'alice', familyId });
    expect(second.ok && (await tokens.rotate(second.token, 7_000))).toEqual({ ok: false, reason: 'revoked' });
  });

  test('a grace window of 0 is none: the rotated token presented again in the same millisecond is reuse', async (t) => {
    const tokens = await t.instance({ ...POLICY, graceMs: 0 });
    const { token: first, familyId } = await tokens.issue('alice', 0);
    expect(await tokens.rotate(first, 1_000)).toMatchObject({ ok: true });
    expect(await tokens.rotate(first, 1_000)).toEqual({ ok: false, reason: 'reused', userId: 'alice', familyId });
  });

  test('within the grace window the predecessor gets the same successor, and the family lives on', async (t) => {
    const tokens = await t.instance();
    const first = (await tokens.issue('alice', 0)).token;
    const a = await tokens.rotate(first, 1_000);
    const b = await tokens.rotate(first, 1_000 + POLICY.graceMs);
    expect(a.ok && b.ok && a.token === b.token).toBe(true);
    expect(a.ok && (await tokens.rotate(a.token, 6_100))).toMatchObject({ ok: true });
  });

  test('only the immediate predecessor gets grace: an older ancestor revokes, even within the window', async (t) => {
    const tokens = await t.instance();
    const first = (await tokens.issue('alice', 0)).token;
    const second = await tokens.rotate(first, 100);
    if (!second.ok) throw new Error('first rotation failed');
    const third = await tokens.rotate(second.token, 200);
    expect(await tokens.rotate(first, 300)).toMatchObject({ ok: false, reason: 'reused' });
    expect(third.ok && (await tokens.rotate(third.token, 400))).toEqual({ ok: false, reason: 'revoked' });
  });

  test('a token unused for the idle lifetime has expired', async (t) => {
    const tokens = await t.instance();
    const idle = (await tokens.issue('alice', 0)).token;
    expect(await tokens.rotate(idle, POLICY.idleMs)).toEqual({ ok: false, reason: 'expired' });
    const used = (await tokens.issue('alice', 0)).token;
    expect(await tokens.rotate(used, POLICY.idleMs - 1)).toMatchObject({ ok: true });
  });

  test('a family ends at its absolute lifetime however often it rotates', async (t) => {
    const tokens = await t.instance();
    let token = (await tokens.issue('bob', 0)).token;
    for (let t = 50_000; t < POLICY.absoluteMs; t += 50_000) {
      const next = await tokens.rotate(token, t);
      if (!next.ok) throw new Error(`rotation at ${t} failed: ${next.reason}`);
      token = next.token;
    }
    expect(await tokens.rotate(token, POLICY.absoluteMs)).toEqual({ ok: false, reason: 'expired' });
  });

  test("a family's own lifetimes (given at login) rule its idle and absolute end, on every instance", async (t) => {
    const tokens = await t.instance();
    const short = { idleMs: 10_000, absoluteMs: 30_000 };
    // Shorter than the policy: idle after 10 s, not 60 s; over at 30 s, not 600 s.
    const idle = await tokens.issue('alice', 0, null, {}, short);
    expect(await tokens.rotate(idle.token, short.idleMs)).toEqual({ ok: false, reason: 'expired' });
    const used = await tokens.issue('alice', 0, null, {}, short);
    expect(await tokens.liveUntil(used.familyId, 0)).toBe(short.absoluteMs);
    // Another instance, whose policy says otherwise, still applies the family's own lifetimes.
    const other = await t.instance({ ...POLICY, idleMs: 500_000 });
    let token = used.token;
    for (const at of [9_000, 18_000, 27_000]) {
      const next = await (at === 18_000 ? other : tokens).rotate(token, at);
      if (!next.ok) throw new Error(`rotation at ${at} failed: ${next.reason}`);
      token = next.token;
    }
    expect(await other.liveUntil(used.familyId, 29_999)).toBe(short.absoluteMs);
    expect(await other.rotate(token, short.absoluteMs)).toEqual({ ok: false, reason: 'expired' });
    // Longer than the policy: alive after the policy's idle lifetime.
    const long = await tokens.issue('bob', 0, null, {}, { idleMs: 120_000, absoluteMs: 900_000 });
    const rotated = await tokens.rotate(long.token, POLICY.idleMs + 1);
    expect(rotated).toMatchObject({ ok: true });
    expect(await tokens.liveUntil(long.familyId, POLICY.idleMs + 2)).toBe(900_000);
    // The idle lifetime after a rotation is the family's too (the successor idles out at +120 s, on the other instance).
    const successor = rotated.ok ? rotated.token : '';
    const idleInstance = await t.instance({ ...POLICY, idleMs: 1_000 });
    expect(await idleInstance.rotate(successor, POLICY.idleMs + 1 + 119_000)).toMatchObject({ ok: true });
    // A family without lifetimes of its own keeps the policy's.
    const plain = await tokens.issue('carol', 0);
    expect(await tokens.rotate(plain.token, POLICY.idleMs)).toEqual({ ok: false, reason: 'expired' });
  });

  test('logout revokes the family: the current token and its ancestors', async (t) => {
    const tokens = await t.instance();
    const first = (await tokens.issue('alice', 0)).token;
    const second = await tokens.rotate(first, 10);
    if (!second.ok) throw new Error('rotation failed');
    expect(await tokens.revoke(second.token, 20)).toBe('alice');
    // Revoked once: a second logout (a retry whose first answer was lost) revokes nothing.
    expect(await tokens.revoke(first, 25)).toBeNull();
    expect(await tokens.rotate(second.token, 30)).toEqual({ ok: false, reason: 'revoked' });
    expect(await tokens.rotate(first, 30)).toEqual({ ok: false, reason: 'revoked' });
    expect(await tokens.revoke('A'.repeat(43), 40)).toBeNull();
  });

  test('revoking a user ends every live family of that user and no one else', async (t) => {
    const tokens = await t.instance();
    const a = (await tokens.issue('alice', 0)).token;
    const b = (await tokens.issue('alice', 0)).token;
    const gone = (await tokens.issue('alice', 0)).token;
    const c = (await tokens.issue('bob', 0)).token;
    await tokens.revoke(gone, 5);
    expect(await tokens.revokeUser('alice', 10)).toBe(2);
    expect(await tokens.rotate(a, 20)).toEqual({ ok: false, reason: 'revoked' });
    expect(await tokens.rotate(b, 20)).toEqual({ ok: false, reason: 'revoked' });
    expect(await tokens.rotate(c, 20)).toMatchObject({ ok: true, userId: 'bob' });
    expect(await tokens.revokeUser('alice', 30)).toBe(0);
    expect(await tokens.revokeUser('nobody', 30)).toBe(0);
  });

  test('a family is live until its absolute end, and not once revoked, idle or over, on every instance', async (t) => {
    const [tokens, other] = [await t.instance(), await t.instance()];
    const { token, familyId } = await tokens.issue('alice', 0);
    expect(await other.liveUntil(familyId, 1_000)).toBe(POLICY.absoluteMs);
    // Idle: the current token unused for idleMs.
    expect(await other.liveUntil(familyId, POLICY.idleMs)).toBeNull();
    const rotated = await tokens.rotate(token, 50_000);
    expect(rotated.ok && rotated.familyId).toBe(familyId);
    expect(await other.liveUntil(familyId, 100_000)).toBe(POLICY.absoluteMs);
    const revoked = await tokens.issue('alice', 0);
    await tokens.revokeUser('alice', 60_000);
    expect(await other.liveUntil(revoked.familyId, 60_001)).toBeNull();
    expect(await other.liveUntil(familyId, 60_001)).toBeNull();
    expect(await other.liveUntil('no-such-family', 0)).toBeNull();
  });

  test('no family outlives its absolute end, however it is used', async (t) => {
    const tokens = await t.instance({ ...POLICY, idleMs: POLICY.absoluteMs });
    const { familyId } = await tokens.issue('alice', 0);
    expect(await tokens.liveUntil(familyId, POLICY.absoluteMs - 1)).toBe(POLICY.absoluteMs);
    expect(await tokens.liveUntil(familyId, POLICY.absoluteMs)).toBeNull();
  });

  test('the claims given at login come back with every rotation, on every instance', async (t) => {
    const [tokens, other] = [await t.instance(), await t.instance()];
    const claims = { name: 'Alice Liddell', roles: ['reader'], n: 1 };
    const { token } = await tokens.issue('alice', 0, null, claims);
    const first = await other.rotate(token, 1_000);
    expect(first).toMatchObject({ ok: true, claims });
    const again = await tokens.rotate(token, 1_500);
    expect(again).toMatchObject({ ok: true, claims });
    const bare = await tokens.issue('bob', 0);
    expect(await tokens.rotate(bare.token, 1_000)).toMatchObject({ ok: true, claims: {} });
  });

  test('the sign-in facts (auth_time, acr, amr) survive every rotation and grace, on every instance', async (t) => {
    // RFC 9470 step-up relies on them: a refresh is not a new sign-in, so a lost or
    // retyped auth_time would let a session kept alive by refreshing pass a max_age route.
    const [tokens, other] = [await t.instance(), await t.instance()];
    const signIn = { auth_time: 1_700_000_000, acr: 'pwd', amr: ['pwd'] };
    const { token } = await tokens.issue('alice', 0, null, { name: 'Alice', ...signIn });
    const second = await other.rotate(token, 1_000);
    expect(second).toMatchObject({ ok: true, claims: signIn });
    if (!second.ok) return;
    expect(await tokens.rotate(token, 1_500)).toMatchObject({ ok: true, claims: signIn });
    const third = await tokens.rotate(second.token, 30_000);
    expect(third).toMatchObject({ ok: true, claims: { name: 'Alice', ...signIn } });
    if (!third.ok) return;
    ok(typeof third.claims.auth_time === 'number', 'auth_time stays a number');
  });

  test('unknown and malformed tokens are refused', async (t) => {
    const tokens = await t.instance();
    expect(await tokens.rotate('A'.repeat(43), 50)).toEqual({ ok: false, reason: 'unknown' });
    expect(await tokens.rotate('not a token', 50)).toEqual({ ok: false, reason: 'malformed' });
  });

  test('a sweep keeps live families and leaves dead ones refused', async (t) => {
    const tokens = await t.instance();
    const live = (await tokens.issue('alice', 0)).token;
    const revoked = (await tokens.issue('alice', 0)).token;
    const idle = (await tokens.issue('bob', 0)).token;
    await tokens.revoke(revoked, 10);
    const rotated = await tokens.rotate(live, POLICY.idleMs - 1);
    if (!rotated.ok) throw new Error('rotation failed');
    const store = t.opened[0]!;
    expect(await store.sweep(POLICY.idleMs + 1)).toBeGreaterThanOrEqual(0);
    expect(await tokens.rotate(rotated.token, POLICY.idleMs + 2)).toMatchObject({ ok: true, userId: 'alice' });
    expect(await tokens.rotate(revoked, POLICY.idleMs + 2)).toMatchObject({ ok: false });
    expect(await tokens.rotate(idle, POLICY.idleMs + 2)).toMatchObject({ ok: false });
  });

  test('20 concurrent rotations of one token from two instances: one rotation, the others grace, one successor', async (t) => {
    const [a] = [await t.instance(), await t.instance()];
    const first = (await a.issue('alice', 0)).token;
    const [hash, successor] = [hashToken(first), hashToken('successor')];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.opened[i % 2]!.rotate(hash, successor, 1_000 + i, POLICY)),
    );
    expect(results.filter((r) => r.status === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'grace')).toHaveLength(19);
  });

  test('concurrent rotations naming different successors: exactly one wins, the rest is reuse', async (t) => {
    const [a] = [await t.instance(), await t.instance()];
    const first = (await a.issue('alice', 0)).token;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.opened[i % 2]!.rotate(hashToken(first), hashToken(`successor ${i}`), 1_000, POLICY)),
    );
    const winner = results.findIndex((r) => r.status === 'rotated');
    expect(results.filter((r) => r.status === 'rotated')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'reused' || r.status === 'revoked')).toHaveLength(19);
    expect(await t.opened[0]!.rotate(hashToken(`successor ${winner}`), hashToken('next'), 2_000, POLICY)).toEqual({ status: 'revoked' });
  });

  test('concurrent duplicates within grace leave the successor current and usable from either instance', async (t) => {
    const [a, b] = [await t.instance(), await t.instance()];
    const first = (await a.issue('alice', 0)).token;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).rotate(first, 1_000)));
    const tokens = new Set(results.map((r) => (r.ok ? r.token : `refused: ${r.reason}`)));
    expect([...tokens]).toHaveLength(1);
    const [successor] = [...tokens] as [string];
    expect(await b.rotate(successor, 2_000)).toMatchObject({ ok: true, userId: 'alice' });
  });

  test('a family bound to a DPoP key rotates only for that key, and a wrong or missing key changes nothing', async (t) => {
    const [a, b] = [await t.instance(), await t.instance()];
    const first = (await a.issue('alice', 0, 'key-1')).token;
    expect(await a.rotate(first, 100)).toMatchObject({ ok: false, reason: 'wrong_key' });
    expect(await b.rotate(first, 200, 'key-2')).toMatchObject({ ok: false, reason: 'wrong_key' });
    const second = await b.rotate(first, 300, 'key-1');
    expect(second).toMatchObject({ ok: true, userId: 'alice', jkt: 'key-1' });
    // Not reuse, nor a foreign key on the live token: without the key, the rotated token is refused as stale.
    expect(await a.rotate(first, 300 + POLICY.graceMs + 1)).toEqual({ ok: false, reason: 'stale' });
    expect(await b.rotate(first, 300 + POLICY.graceMs + 1, 'key-2')).toEqual({ ok: false, reason: 'stale' });
    // Within grace too: a wrong key never gets the successor.
    expect(await b.rotate(first, 350, 'key-2')).toEqual({ ok: false, reason: 'stale' });
    // The live token still answers wrong_key (naming its family) to another key.
    expect(second.ok && (await a.rotate(second.token, 360, 'key-2'))).toMatchObject({ ok: false, reason: 'wrong_key', userId: 'alice' });
    // Within grace, the duplicate with the key gets the same successor, still bound.
    expect(await a.rotate(first, 400, 'key-1')).toEqual(second);
    expect(second.ok && (await a.rotate(second.token, 500, 'key-1'))).toMatchObject({ ok: true, jkt: 'key-1' });
  });

  test('an unbound family rotates with or without a key and stays unbound', async (t) => {
    const tokens = await t.instance();
    const first = (await tokens.issue('alice', 0)).token;
    const second = await tokens.rotate(first, 100, 'some-key');
    expect(second).toMatchObject({ ok: true, jkt: null });
    expect(second.ok && (await tokens.rotate(second.token, 200))).toMatchObject({ ok: true, jkt: null });
  });

  test('instances with different secrets disagree on the successor: a duplicate then reads as reuse', async (t) => {
    const a = await t.instance();
    const store = await t.open();
    const other = new RefreshTokens(store, POLICY, randomBytes(32));
    const first = (await a.issue('alice', 0)).token;
    expect(await a.rotate(first, 1_000)).toMatchObject({ ok: true });
    expect(await other.rotate(first, 1_001)).toMatchObject({ ok: false, reason: 'reused' });
  });

  test('every way a family ends lists its access tokens as revoked, on every instance, until the entry expires', async (t) => {
    const [tokens, before] = [await t.instance(), await t.instance()];
    const loggedOut = await tokens.issue('alice', 0);
    const byId = await tokens.issue('alice', 0);
    const everywhere = [await tokens.issue('carol', 0), await tokens.issue('carol', 0)];
    const reused = await tokens.issue('alice', 0);
    const live = await tokens.issue('bob', 0);
    const revokedAt = 10_000; // past the grace window of the reused token's rotation at 100
    expect(await tokens.revoke(loggedOut.token, revokedAt)).toBe('alice');
    expect(await tokens.revokeFamily(byId.familyId, revokedAt)).toBe(true);
    expect(await tokens.revokeFamily(byId.familyId, revokedAt)).toBe(false);
    expect(await tokens.revokeFamily('no-such-family', revokedAt)).toBe(false);
    expect(await tokens.revokeUser('carol', revokedAt)).toBe(2);
    await tokens.rotate(reused.token, 100);
    expect(await tokens.rotate(reused.token, revokedAt)).toEqual({ ok: false, reason: 'reused', userId: 'alice', familyId: reused.familyId });
    const ended = [loggedOut, byId, ...everywhere, reused].map((f) => f.familyId);
    const after = await t.instance();
    for (const familyId of ended) {
      // The instance that revoked it, and one opened since: at once.
      expect(await tokens.accessRevoked(familyId, revokedAt)).toBe(true);
      expect(await after.accessRevoked(familyId, revokedAt + 1)).toBe(true);
      await eventually(`an instance open before sees ${familyId} revoked`, () => before.accessRevoked(familyId, revokedAt + 1));
    }
    for (const other of [tokens, before, after]) {
      expect(await other.accessRevoked(live.familyId, revokedAt)).toBe(false);
      expect(await other.accessRevoked('no-such-family', revokedAt)).toBe(false);
    }
    // Kept for the access tokens' lifetime, and not longer.
    const end = revokedAt + POLICY.accessListMs;
    for (const familyId of ended) {
      expect(await after.accessRevoked(familyId, end - 1)).toBe(true);
      expect(await after.accessRevoked(familyId, end)).toBe(false);
    }
  });

  test('a sweep keeps revocation entries until they expire, even of families it deletes', async (t) => {
    const tokens = await t.instance();
    const { token, familyId } = await tokens.issue('alice', 0);
    await tokens.revoke(token, 1_000);
    const store = t.opened[0]!;
    await store.sweep(2_000);
    expect(await tokens.accessRevoked(familyId, 2_000)).toBe(true);
    await store.sweep(1_000 + POLICY.accessListMs);
    expect(await tokens.accessRevoked(familyId, 1_000 + POLICY.accessListMs)).toBe(false);
  });

  test('with accessListMs 0 (the check off) a revocation lists nothing', async (t) => {
    const tokens = await t.instance({ ...POLICY, accessListMs: 0 });
    const { token, familyId } = await tokens.issue('alice', 0);
    expect(await tokens.revoke(token, 1_000)).toBe('alice');
    expect(await tokens.accessRevoked(familyId, 1_000)).toBe(false);
  });

  // Token-handler mode (token-broker/server/oidc): the provider's tokens, sealed, kept per family.
  const upstreamOf = (store: RefreshStore) => {
    const { familyOf, upstream, leaseUpstream, releaseUpstream } = store;
    ok(familyOf && upstream && leaseUpstream && releaseUpstream, 'the store keeps upstream records (familyOf, upstream, leaseUpstream, releaseUpstream)');
    return {
      familyOf: familyOf.bind(store),
      read: upstream.bind(store),
      lease: leaseUpstream.bind(store),
      release: releaseUpstream.bind(store),
    };
  };

  test('upstream: a family keeps its sealed record, every instance reads it, and a family without one reads null', async (t) => {
    const a = await t.open();
    const b = await t.open();
    await a.createFamily({ familyId: 'f1', userId: 'alice', tokenHash: 'h1', now: 0, upstream: 'sealed-1' }, POLICY);
    await a.createFamily({ familyId: 'f2', userId: 'alice', tokenHash: 'h2', now: 0 }, POLICY);
    expect(await upstreamOf(b).read('f1')).toBe('sealed-1');
    expect(await upstreamOf(b).read('f2')).toBeNull();
    expect(await upstreamOf(b).read('no-such-family')).toBeNull();
    expect(await upstreamOf(b).familyOf('h1')).toBe('f1');
    expect(await upstreamOf(b).familyOf('no-such-hash')).toBeNull();
    // A rotated token still names its family (a logout with a cookie a moment old).
    await a.rotate('h1', 'h1b', 1_000, POLICY);
    expect(await upstreamOf(b).familyOf('h1')).toBe('f1');
    expect(await upstreamOf(b).read('f1')).toBe('sealed-1');
  });

  test('upstream: one lease at a time across instances; its holder replaces the record and releases it; an expired lease can be taken', async (t) => {
    const a = upstreamOf(await t.open());
    const b = upstreamOf(await t.open());
    await t.opened[0]!.createFamily({ familyId: 'f1', userId: 'alice', tokenHash: 'h1', now: 0, upstream: 'v1' }, POLICY);
    const taken = await Promise.all([a.lease('f1', 'A', 1_000, 5_000), b.lease('f1', 'B', 1_000, 5_000)]);
    expect(taken.filter(Boolean)).toHaveLength(1);
    const [winner, loser, winnerName, loserName] = taken[0] ? [a, b, 'A', 'B'] : [b, a, 'B', 'A'];
    expect(await loser.lease('f1', loserName, 2_000, 5_000)).toBe(false);
    // Only the holder may write.
    expect(await loser.release('f1', loserName, 'forged')).toBe(false);
    expect(await winner.release('f1', winnerName, 'v2')).toBe(true);
    expect(await loser.read('f1')).toBe('v2');
    // Released: free for the next one; a release without a record keeps it.
    expect(await loser.lease('f1', loserName, 3_000, 5_000)).toBe(true);
    expect(await loser.release('f1', loserName)).toBe(true);
    expect(await winner.read('f1')).toBe('v2');
    // A holder that died: its lease runs out, another takes it, and the late holder's write is refused.
    expect(await winner.lease('f1', winnerName, 4_000, 5_000)).toBe(true);
    expect(await loser.lease('f1', loserName, 8_999, 5_000)).toBe(false);
    expect(await loser.lease('f1', loserName, 9_000, 5_000)).toBe(true);
    expect(await winner.release('f1', winnerName, 'late')).toBe(false);
    expect(await loser.read('f1')).toBe('v2');
  });

  test('upstream: every way a family ends clears its record, and no lease can be taken on it', async (t) => {
    const tokens = await t.instance();
    const store = t.opened[0]!;
    const up = upstreamOf(store);
    const ended: string[] = [];
    const family = async (userId = 'alice') => {
      const issued = await tokens.issue(userId, 0, null, {}, undefined, 'sealed');
      expect(await up.read(issued.familyId)).toBe('sealed');
      ended.push(issued.familyId);
      return issued;
    };
    await tokens.revoke((await family()).token, 1_000);
    await tokens.revokeFamily((await family()).familyId, 1_000);
    await family('bob');
    await family('bob');
    await tokens.revokeUser('bob', 1_000);
    const reused = await family();
    await tokens.rotate(reused.token, 1_000);
    await tokens.rotate(reused.token, 2_000 + POLICY.graceMs);
    for (const familyId of ended) {
      expect(await up.read(familyId)).toBeNull();
      expect(await up.lease(familyId, 'A', 10_000, 5_000)).toBe(false);
    }
  });

  test('upstream: a family revoked while a lease is out keeps no record the holder writes after', async (t) => {
    const tokens = await t.instance();
    const up = upstreamOf(t.opened[0]!);
    const { token, familyId } = await tokens.issue('alice', 0, null, {}, undefined, 'v1');
    expect(await up.lease(familyId, 'A', 1_000, 5_000)).toBe(true);
    await tokens.revoke(token, 1_500);
    await up.release(familyId, 'A', 'v2');
    expect(await up.read(familyId)).toBeNull();
  });

  return cases;
}
