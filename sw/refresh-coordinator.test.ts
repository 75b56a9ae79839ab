import { expect, test } from '@playwright/test';
import { RefreshCoordinator, type AttemptResult, type RefreshDeps, type RefreshOutcome } from './refresh-coordinator';

interface Tok {
  id: string;
  fresh: boolean;
}

/** A fake world: a shared store, a scripted endpoint and a real exclusive lock. */
function world(script: AttemptResult<Tok>[], stored: Tok | null = null) {
  const calls = { attempts: 0, sleeps: [] as number[], commits: [] as RefreshOutcome<Tok>['kind'][] };
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
    now: () => 0,
    random: () => 0.5,
    policy: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
  };
  return { deps, calls, shared };
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
  expect(outcome).toEqual({ kind: 'unavailable', status: 500 });
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
  expect(await new RefreshCoordinator(w.deps).refresh(null)).toEqual({ kind: 'network' });
  expect(w.shared.stored).toEqual({ id: 'old', fresh: false });
});

test('after a failure the next call tries again', async () => {
  const w = world([{ kind: 'network' }, ok('t2')]);
  const c = new RefreshCoordinator(w.deps);
  expect((await c.refresh(null)).kind).toBe('network');
  expect((await c.refresh(null)).kind).toBe('ok');
  expect(w.calls.attempts).toBe(2);
});
