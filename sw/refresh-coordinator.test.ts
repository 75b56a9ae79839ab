import { expect, test } from '@playwright/test';
import { RefreshCoordinator, type AttemptResult, type RefreshDeps, type RefreshOutcome } from './refresh-coordinator';

interface Tok {
  id: string;
  fresh: boolean;
}

/** A fake world: a shared store, a scripted endpoint and a real exclusive lock. */
function world(script: AttemptResult<Tok>[], stored: Tok | null = null) {
  const calls = { attempts: 0, sleeps: [] as number[], commits: [] as RefreshOutcome<Tok>['kind'][] };
  const clock = { now: 0 };
  let lock: Promise<unknown> = Promise.resolve();
  const shared = { stored };
  const deps: RefreshDeps<Tok> = {
    withLock: (fn) => {
      const run = lock.then(fn);
      lock = run.catch(() => undefined);
      return run;
    },
    readStored: async () => shared.stored,
    isFresh: (t) => t.fresh,
    sameToken: (a, b) => a.id === b.id,
    attempt: async () => {
      calls.attempts++;
      await new Promise((r) => setTimeout(r, 5));
      return script.shift() ?? { kind: 'network' };
    },
    commit: async (o) => {
      calls.commits.push(o.kind);
      if (o.kind === 'ok') shared.stored = o.token;
      if (o.kind === 'rejected') shared.stored = null;
    },
    sleep: async (ms) => {
      calls.sleeps.push(ms);
    },
    now: () => clock.now,
    random: () => 0.5,
    policy: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, cooldownBaseMs: 2000, cooldownMaxMs: 16_000, retryAfterMaxMs: 60_000 },
  };
  return { deps, calls, shared, clock };
}

const ok = (id: string): AttemptResult<Tok> => ({ kind: 'ok', token: { id, fresh: true } });

test('concurrent callers share one refresh', async () => {
  const w = world([ok('t2')]);
  const c = new RefreshCoordinator(w.deps);
  const stale = { id: 't1', fresh: false };
  const outcomes = await Promise.all(Array.from({ length: 50 }, () => c.refresh(stale)));
  expect(w.calls.attempts).toBe(1);
  expect(new Set(outcomes.map((o) => (o.kind === 'ok' ? o.token.id : o.kind)))).toEqual(new Set(['t2']));
  expect(c.busy).toBe(false);
});

test('two coordinators (two worker versions) sharing a lock and store refresh once', async () => {
  const w = world([ok('t2'), ok('t3')]);
  const a = new RefreshCoordinator(w.deps);
  const b = new RefreshCoordinator(w.deps);
  const stale = { id: 't1', fresh: false };
  const [ra, rb] = await Promise.all([a.refresh(stale), b.refresh(stale)]);
  expect(w.calls.attempts).toBe(1);
  expect(ra).toEqual({ kind: 'ok', token: { id: 't2', fresh: true }, refreshed: true });
  // The second took the lock after the first, re-read the store and found the new token.
  expect(rb).toEqual({ kind: 'ok', token: { id: 't2', fresh: true }, refreshed: false });
});

test('a forced refresh is not satisfied by the very token it wants replaced', async () => {
  const current = { id: 't1', fresh: true };
  const w = world([ok('t2')], current);
  const outcome = await new RefreshCoordinator(w.deps).refresh(current);
  expect(w.calls.attempts).toBe(1);
  expect(outcome.kind === 'ok' && outcome.token.id).toBe('t2');
});

test('a restore with a fresh stored token does not call the endpoint', async () => {
  const w = world([], { id: 't9', fresh: true });
  const outcome = await new RefreshCoordinator(w.deps).refresh(null);
  expect(w.calls.attempts).toBe(0);
  expect(outcome).toEqual({ kind: 'ok', token: { id: 't9', fresh: true }, refreshed: false });
});

test('5xx and 429 are retried with backoff, then reported unavailable', async () => {
  const w = world([
    { kind: 'status', status: 503, retryAfter: null },
    { kind: 'status', status: 429, retryAfter: '1' },
    { kind: 'status', status: 500, retryAfter: null },
  ]);
  const outcome = await new RefreshCoordinator(w.deps).refresh(null);
  // The cool-down after a first failure: 2 s, jittered to 1.5 s by random() = 0.5.
  expect(outcome).toEqual({ kind: 'unavailable', status: 500, retryAt: 1500 });
  expect(w.calls.attempts).toBe(3);
  expect(w.calls.sleeps).toEqual([75, 1000]);
  expect(w.calls.commits).toEqual(['unavailable']);
});

test('a retry that succeeds returns the token', async () => {
  const w = world([{ kind: 'status', status: 502, retryAfter: null }, ok('t2')]);
  const outcome = await new RefreshCoordinator(w.deps).refresh(null);
  expect(outcome.kind).toBe('ok');
  expect(w.calls.attempts).toBe(2);
});

test('400/401/403 end the session without retries; network errors keep it', async () => {
  for (const status of [400, 401, 403]) {
    const w = world([{ kind: 'status', status, retryAfter: null }], { id: 'old', fresh: false });
    expect(await new RefreshCoordinator(w.deps).refresh(null)).toEqual({ kind: 'rejected', status });
    expect(w.calls.attempts).toBe(1);
    expect(w.shared.stored).toBeNull();
  }
  const w = world([{ kind: 'network' }], { id: 'old', fresh: false });
  expect(await new RefreshCoordinator(w.deps).refresh(null)).toEqual({ kind: 'network', retryAt: 1500 });
  expect(w.shared.stored).toEqual({ id: 'old', fresh: false });
});

test('after a failure no refresh is tried until its cool-down ends; callers get the failure at once', async () => {
  const w = world([{ kind: 'network' }, ok('t2')]);
  const c = new RefreshCoordinator(w.deps);
  expect(await c.refresh(null)).toEqual({ kind: 'network', retryAt: 1500 });
  w.clock.now = 1499;
  const during = await Promise.all(Array.from({ length: 100 }, () => c.refresh(null)));
  expect(new Set(during.map((o) => JSON.stringify(o)))).toEqual(new Set([JSON.stringify({ kind: 'network', retryAt: 1500 })]));
  expect(w.calls.attempts).toBe(1);
  w.clock.now = 1500;
  expect((await c.refresh(null)).kind).toBe('ok');
  expect(w.calls.attempts).toBe(2);
});

test('the cool-down doubles with each failure in a row, within its ceiling, and a success resets it', async () => {
  const down = { kind: 'status', status: 503, retryAfter: null } as const;
  const w = world([down, down, down, down, down, down, down, down, ok('t2'), down]);
  const c = new RefreshCoordinator(w.deps);
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const o = await c.refresh(null);
    if (o.kind !== 'unavailable') throw new Error(o.kind);
    waits.push(o.retryAt! - w.clock.now);
    w.clock.now = o.retryAt!;
  }
  // The first refresh of an outage retries within itself (3 attempts); each later one tries once.
  expect(w.calls.attempts).toBe(3 + 5);
  expect(waits).toEqual([1500, 3000, 6000, 12_000, 12_000, 12_000]);
  const fresh = await c.refresh(null);
  expect(fresh.kind).toBe('ok');
  // After the success a new outage starts from the first step, with its in-call retries (a 503, then a network error).
  expect(await c.refresh(fresh.kind === 'ok' ? fresh.token : null)).toEqual({ kind: 'network', retryAt: w.clock.now + 1500 });
  expect(w.calls.attempts).toBe(3 + 5 + 1 + 2);
});

test('Retry-After lengthens the cool-down, within its ceiling', async () => {
  for (const [retryAfter, wait] of [
    ['30', 30_000],
    ['3600', 60_000],
  ] as const) {
    const w = world([{ kind: 'status', status: 429, retryAfter }]);
    const o = await new RefreshCoordinator(w.deps).refresh(null);
    // Beyond the in-call ceiling (1 s) it gives up at once, and cools down as long as the server asked.
    expect(w.calls.attempts).toBe(1);
    expect(o).toEqual({ kind: 'unavailable', status: 429, retryAt: wait });
  }
});

test('a forced refresh or a reset tries at once, during a cool-down', async () => {
  const w = world([{ kind: 'network' }, { kind: 'network' }, { kind: 'network' }, ok('t2')]);
  const c = new RefreshCoordinator(w.deps);
  await c.refresh(null);
  expect((await c.refresh(null, { force: true })).kind).toBe('network');
  expect(w.calls.attempts).toBe(2);
  c.reset();
  expect((await c.refresh(null)).kind).toBe('network');
  expect(w.calls.attempts).toBe(3);
  c.reset();
  expect((await c.refresh(null)).kind).toBe('ok');
});

test('during a cool-down a token another worker stored meanwhile is used', async () => {
  const w = world([{ kind: 'network' }]);
  const c = new RefreshCoordinator(w.deps);
  await c.refresh(null);
  w.shared.stored = { id: 'other-version', fresh: true };
  expect(await c.refresh(null)).toEqual({ kind: 'ok', token: { id: 'other-version', fresh: true }, refreshed: false });
  expect(w.calls.attempts).toBe(1);
});

test('a resume ends a cool-down once: not the one its own early try started, so a loop of resumes costs one more attempt per step', async () => {
  const w = world([]);
  const c = new RefreshCoordinator(w.deps);
  await c.refresh(null);
  expect(w.calls.attempts).toBe(1);
  for (let i = 0; i < 20; i++) {
    c.resume();
    await c.refresh(null);
  }
  // The first resume let one try through; its failure started a cool-down no resume ends.
  expect(w.calls.attempts).toBe(2);
  // The run of failures went on: that cool-down doubled (1.5 s, then 3 s with this jitter).
  w.clock.now += 2_999;
  c.resume();
  await c.refresh(null);
  expect(w.calls.attempts).toBe(2);
  // Once it ends, a refresh at its due time fails again; that cool-down a resume may end, once.
  w.clock.now += 1;
  await c.refresh(null);
  expect(w.calls.attempts).toBe(3);
  c.resume();
  c.resume();
  await c.refresh(null);
  await c.refresh(null);
  expect(w.calls.attempts).toBe(4);
});
