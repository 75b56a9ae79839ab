import { expect, test } from '@playwright/test';
import { Invariants, memoryGrowth, type PageResult, type RefreshExchange } from './invariants';

const LIFETIMES = { refreshIdleMs: 60_000, refreshAbsoluteMs: 600_000, rotationGraceMs: 10_000 };
const LIMITS = { revokedSlackMs: 1000, hungRequestMs: 60_000, recoveryMs: 60_000 };

function judge(): Invariants {
  const inv = new Invariants(LIFETIMES, LIMITS);
  inv.signInDone(1000);
  inv.login(1000, 200, 'fam1');
  return inv;
}

const refresh = (at: number, x: Partial<RefreshExchange> = {}): RefreshExchange => ({
  start: at,
  end: at + 10,
  status: 200,
  code: null,
  reason: null,
  sid: 'fam1',
  answerLost: false,
  injected: false,
  ...x,
});

const result = (x: Partial<PageResult>): PageResult => ({ tab: 0, id: '0-1', method: 'GET', status: 200, code: null, echoOk: null, start: 0, end: 0, ...x });
const names = (inv: Invariants) => inv.violations.map((v) => v.invariant);

test('a refresh refused as expired before the idle lifetime has passed is a lost session', () => {
  const inv = judge();
  inv.refreshStarted(20_000);
  inv.refreshEnded(refresh(20_000, { status: 401, code: 'invalid_grant', reason: 'expired' }));
  expect(names(inv)).toEqual(['session-lost']);
});

test('expiry after the idle lifetime, counted on the server clock, is the rules', () => {
  const inv = judge();
  inv.refreshStarted(5000);
  inv.refreshEnded(refresh(5000));
  // 40 s later on the real clock, but the server's clock stepped 30 s forward meanwhile: 70 s idle there.
  inv.setClockOffset(30);
  inv.refreshStarted(45_000);
  inv.refreshEnded(refresh(45_000, { status: 401, code: 'invalid_grant', reason: 'expired' }));
  expect(inv.violations).toEqual([]);
  expect(inv.sessionEnds.map((e) => e.why)).toEqual(['idle lifetime']);
  expect(inv.signedIn).toBe(false);
});

test('a refresh without the cookie, once its Max-Age (the idle lifetime) has passed, is the idle rule; before, a lost session', () => {
  const inv = judge();
  inv.refreshStarted(5000);
  inv.refreshEnded(refresh(5000, { end: 5100 }));
  inv.refreshStarted(40_000);
  inv.refreshEnded(refresh(40_000, { status: 401, code: 'invalid_grant', reason: 'unknown', cookieless: true }));
  expect(names(inv)).toEqual(['session-lost']);
  const idle = judge();
  idle.refreshStarted(5000);
  idle.refreshEnded(refresh(5000, { end: 5100 }));
  // Its cookie is there: an unknown token is no lifetime's doing.
  idle.refreshStarted(70_000);
  idle.refreshEnded(refresh(70_000, { status: 401, code: 'invalid_grant', reason: 'unknown', cookieless: false }));
  expect(names(idle)).toEqual(['session-lost']);
  const gone = judge();
  gone.refreshStarted(5000);
  gone.refreshEnded(refresh(5000, { end: 5100 }));
  gone.refreshStarted(70_000);
  gone.refreshEnded(refresh(70_000, { status: 401, code: 'invalid_grant', reason: 'unknown', cookieless: true }));
  expect(gone.violations).toEqual([]);
  expect(gone.sessionEnds.map((e) => e.why)).toEqual(['idle lifetime']);
});

test('reuse is the rules only when an answer was lost longer than the grace window ago', () => {
  const lost = judge();
  lost.refreshStarted(5000);
  lost.refreshEnded(refresh(5000, { answerLost: true }));
  lost.refreshStarted(16_000);
  lost.refreshEnded(refresh(16_000, { status: 401, code: 'invalid_grant', reason: 'reused' }));
  expect(lost.violations).toEqual([]);
  expect(lost.sessionEnds.map((e) => e.why)).toEqual(['reuse after a lost answer']);

  const race = judge();
  race.refreshStarted(5000);
  race.refreshEnded(refresh(5000));
  race.refreshStarted(16_000);
  race.refreshEnded(refresh(16_000, { status: 401, code: 'invalid_grant', reason: 'reused' }));
  expect(names(race)).toEqual(['session-lost']);
});

test('injected failures, dropped connections and nonce challenges end nothing', () => {
  const inv = judge();
  for (const x of [{ status: 503, injected: true }, { status: 0 }, { status: 400, code: 'use_dpop_nonce' }, { status: 429, injected: true }]) {
    inv.refreshStarted(2000);
    inv.refreshEnded(refresh(2000, x));
  }
  expect(inv.violations).toEqual([]);
  expect(inv.signedIn).toBe(true);
});

test('two refreshes in flight at once', () => {
  const inv = judge();
  inv.refreshStarted(2000);
  inv.refreshStarted(2001);
  expect(names(inv)).toEqual(['concurrent-refresh']);
});

test('a POST sent again is allowed only after a 401', () => {
  const inv = judge();
  inv.apiSent(2000, 'fam1', '0-3');
  inv.apiAnswered(2010, 401, '0-3');
  inv.apiSent(2020, 'fam1', '0-3');
  expect(inv.violations).toEqual([]);
  inv.apiAnswered(2030, 200, '0-3');
  inv.apiSent(2040, 'fam1', '0-3');
  inv.apiSent(3000, 'fam1', '0-6');
  inv.apiSent(3001, 'fam1', '0-6');
  expect(names(inv)).toEqual(['post-sent-twice', 'post-sent-twice']);
  // Without a token the API can only refuse it, but the page sent it once: a violation too.
  inv.apiSent(4000, 'fam1', '0-9');
  inv.apiAnswered(4010, 200, '0-9');
  inv.apiSent(4020, null, '0-9');
  expect(inv.violations.at(-1)?.detail).toBe('POST 0-9 sent again without a token after 200');
  expect(inv.violations).toHaveLength(3);
  // A send that never reached the server (connection refused) does not count.
  inv.apiSent(5000, 'fam1', '0-12');
  inv.apiUnsent('0-12');
  inv.apiSent(5100, 'fam1', '0-12');
  expect(inv.violations).toHaveLength(3);
});

test('a POST the page saw succeed must have reached the API with the same body', () => {
  const inv = judge();
  inv.pageResult(result({ id: '0-9', method: 'POST', status: 200, echoOk: true, start: 2000, end: 2100 }));
  inv.apiSent(3000, 'fam1', '0-12');
  inv.apiAnswered(3050, 200, '0-12');
  inv.pageResult(result({ id: '0-12', method: 'POST', status: 200, echoOk: false, start: 3000, end: 3100 }));
  expect(names(inv)).toEqual(['post-lost', 'post-lost']);
});

test("a revoked family's token may not be sent after the slack", () => {
  const inv = judge();
  inv.signOutStarted(5000);
  inv.logout(5100);
  inv.apiSent(5500, 'fam1', null);
  expect(inv.violations).toEqual([]);
  inv.apiSent(6200, 'fam1', null);
  expect(names(inv)).toEqual(['revoked-token-used']);
});

test('401s reaching pages are sorted by why; one through a live session is a violation', () => {
  const inv = new Invariants(LIFETIMES, LIMITS);
  inv.pageResult(result({ status: 401, start: 100, end: 200 }));
  inv.signInDone(1000);
  inv.pageResult(result({ status: 401, start: 900, end: 1100 }));
  inv.signOutStarted(5000);
  inv.pageResult(result({ status: 401, start: 4900, end: 5100 }));
  expect(inv.violations).toEqual([]);
  inv.signInDone(6000);
  inv.pageResult(result({ status: 401, start: 6100, end: 6200 }));
  expect(names(inv)).toEqual(['page-saw-401']);
  expect(inv.pageUnauthorized).toEqual({ 'signed out': 2, 'session ended while it was in flight': 1, 'while signed in': 1 });
});

test('a tab told its session expired while the server refused nothing has lost its session', () => {
  const inv = judge();
  inv.pageSessionEvent(0, 'refresh', 2000);
  inv.pageSessionEvent(0, 'expired', 3000);
  expect(names(inv)).toEqual(['session-lost']);
});

test('recovery is timed from the end of a fault to the last tab that gets a call through', () => {
  const inv = judge();
  inv.faultEnded('offline', 10_000, [0, 1]);
  inv.pageResult(result({ tab: 0, start: 9000, end: 10_100 }));
  inv.pageResult(result({ tab: 0, start: 10_050, end: 10_200 }));
  expect(inv.recoveries).toEqual([]);
  inv.pageResult(result({ tab: 1, start: 10_300, end: 10_400 }));
  expect(inv.recoveries).toEqual([{ kind: 'offline', ms: 400 }]);
  inv.faultEnded('offline', 20_000, [0]);
  inv.checkRecovery(81_000);
  expect(names(inv)).toEqual(['no-recovery']);
});

test('a tab that meets one fault after another must recover once they stop, not during them', () => {
  const inv = judge();
  inv.faultEnded('server-restart', 10_000, [0]);
  inv.faultStarted();
  inv.checkRecovery(80_000);
  expect(inv.violations).toEqual([]);
  inv.faultEnded('refresh-5xx', 85_000, [0]);
  inv.checkRecovery(140_000);
  expect(inv.violations).toEqual([]);
  inv.pageResult(result({ tab: 0, start: 100_000, end: 100_500 }));
  expect(inv.recoveries).toEqual([
    { kind: 'server-restart', ms: 15_500 },
    { kind: 'refresh-5xx', ms: 15_500 },
  ]);
  // A call between two faults whose result is read after the second: recovered, timed from the first's end.
  inv.faultEnded('worker-stop', 150_000, [0]);
  inv.faultStarted();
  inv.faultEnded('clock-jump', 151_000, [0]);
  inv.pageResult(result({ tab: 0, start: 150_100, end: 150_600 }));
  expect(inv.recoveries.at(-1)).toEqual({ kind: 'worker-stop', ms: 600 });
  inv.pageResult(result({ tab: 0, start: 151_100, end: 151_300 }));
  expect(inv.recoveries.at(-1)).toEqual({ kind: 'clock-jump', ms: 300 });
  inv.faultStarted();
  inv.faultEnded('offline', 200_000, [0]);
  inv.checkRecovery(260_001);
  expect(inv.violations.map((v) => v.detail)).toEqual(['after offline, tabs 0 had no successful API call for 60001 ms']);
});

test('a request pending longer than the limit has hung', () => {
  const inv = judge();
  inv.pending(0, 1000, 30_000);
  expect(inv.violations).toEqual([]);
  inv.pending(0, 1000, 62_000);
  expect(names(inv)).toEqual(['request-hung']);
});

test('memory growth needs both the ratio and the slack', () => {
  const flat = Array.from({ length: 12 }, (_, i) => ({ at: i, bytes: 10e6 + (i % 2) * 1e5 }));
  expect(memoryGrowth(flat, 5e6)?.grew).toBe(false);
  const leak = Array.from({ length: 12 }, (_, i) => ({ at: i, bytes: 10e6 + i * 3e6 }));
  expect(memoryGrowth(leak, 5e6)?.grew).toBe(true);
  const small = Array.from({ length: 12 }, (_, i) => ({ at: i, bytes: 1e6 + i * 2e5 }));
  expect(memoryGrowth(small, 5e6)?.grew).toBe(false);
  expect(memoryGrowth(flat.slice(0, 5), 5e6)).toBeNull();
});

test('a reuse the browser never heard of, then "revoked" when it does, is the rules; a lost refusal ends nothing by itself', () => {
  const inv = judge();
  inv.refreshStarted(5000);
  inv.refreshEnded(refresh(5000, { answerLost: true }));
  inv.refreshStarted(16_000);
  inv.refreshEnded(refresh(16_000, { status: 401, code: 'invalid_grant', reason: 'reused', answerLost: true }));
  inv.refreshStarted(17_000);
  inv.refreshEnded(refresh(17_000, { status: 400, code: 'invalid_dpop_proof', answerLost: true }));
  expect(inv.signedIn).toBe(true);
  inv.refreshStarted(20_000);
  inv.refreshEnded(refresh(20_000, { status: 401, code: 'invalid_grant', reason: 'revoked' }));
  expect(inv.violations).toEqual([]);
  expect(inv.sessionEnds.map((e) => e.why)).toEqual(['reuse after a lost answer']);

  const unexplained = judge();
  unexplained.refreshStarted(20_000);
  unexplained.refreshEnded(refresh(20_000, { status: 401, code: 'invalid_grant', reason: 'revoked' }));
  expect(names(unexplained)).toEqual(['session-lost']);
});
