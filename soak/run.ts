// `npm run soak`: real Chromium against the reference server, several tabs of
// continuous API traffic, and seeded faults one after another, for a while.
// The invariants are checked as observations arrive; the first violation ends
// the run with the seed and the event log. Options: --seconds N, --seed N,
// --store sqlite|redis, --instances N (on Redis), --tabs N, --out FILE,
// --faults KIND,KIND (only these).
// See docs/soak.md.
import { chromium, type Browser } from '@playwright/test';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromiumArgs, chromiumPath } from '../e2e/support/chromium.mjs';
import { watchServiceWorkers } from '../e2e/support/worker-watch';
import { startRedisServer, type TestRedis } from '../test-support/redis-server';
import type { Settings } from '../reference-server/settings';
import { FAULT_KINDS, FaultPlan, REDIS_FAULT_KINDS, type FaultKind } from './fault-plan';
import { inject, type World } from './inject';
import { Invariants, memoryGrowth, type MemorySample, type Violation } from './invariants';
import { startFaultProxy } from './proxy';
import { markdown, outageSummary, recoverySummary, sessionSummary, Tally, type SoakReport } from './report';
import { newSeed, seededRandom } from './random';
import { serverProcess } from './server-process';
import { Tab } from './tab';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '180' },
    seed: { type: 'string' },
    store: { type: 'string', default: 'sqlite' },
    tabs: { type: 'string', default: '3' },
    instances: { type: 'string', default: '1' },
    out: { type: 'string', default: 'soak/report.json' },
    faults: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const seed = args.seed ? Number(args.seed) : newSeed();
const store = args.store === 'redis' ? 'redis' : 'sqlite';
const tabCount = Number(args.tabs);
const instances = Number(args.instances);
// Redis's own faults only where the store is on Redis.
const available = FAULT_KINDS.filter((k) => store === 'redis' || !REDIS_FAULT_KINDS.includes(k));
const kinds = (args.faults?.split(',') as FaultKind[] | undefined) ?? available;
if (kinds.some((k) => !available.includes(k))) {
  console.error(`--faults takes a comma-separated list of: ${available.join(', ')}`);
  process.exit(2);
}
if (
  !Number.isInteger(seconds) ||
  seconds < 10 ||
  !Number.isInteger(seed) ||
  !Number.isInteger(tabCount) ||
  tabCount < 1 ||
  !['sqlite', 'redis'].includes(args.store!) ||
  !Number.isInteger(instances) ||
  instances < 1 ||
  (instances > 1 && store !== 'redis')
) {
  console.error('usage: npm run soak -- [--seconds N>=10] [--seed N] [--store sqlite|redis] [--instances N (redis)] [--tabs N] [--out FILE]');
  process.exit(2);
}

const LIFETIMES = { accessTokenTtl: 5, refreshTokenTtl: 60, refreshAbsoluteTtl: 600, rotationGraceSeconds: 10 };
const WORKER_SCRIPT = 'sw-dpop.js';
const CREDENTIALS = { username: 'alice', password: 'wonderland' };

const replay = `npm run soak -- --seed ${seed} --seconds ${seconds} --store ${store} --instances ${instances} --tabs ${tabCount}${args.faults ? ` --faults ${kinds.join(',')}` : ''}`;
console.log(`soak: seed ${seed}, ${seconds} s, store ${store}, ${instances} instance(s), ${tabCount} tabs (replay: ${replay})`);

const started = Date.now();
const events: string[] = [];
const log = (text: string) => {
  const line = `${((Date.now() - started) / 1000).toFixed(1).padStart(7)} s  ${text}`;
  events.push(line);
  if (events.length > 400) events.shift();
  if (args.verbose) console.log(line);
};

let failed: Violation | null = null;
const invariants = new Invariants(
  { refreshIdleMs: LIFETIMES.refreshTokenTtl * 1000, refreshAbsoluteMs: LIFETIMES.refreshAbsoluteTtl * 1000, rotationGraceMs: LIFETIMES.rotationGraceSeconds * 1000 },
  { revokedSlackMs: 1000, hungRequestMs: 60_000, recoveryMs: 60_000 },
  (v) => {
    log(`VIOLATION ${v.invariant}: ${v.detail}`);
    failed ??= v;
  },
);
const tally = new Tally();
const plan = new FaultPlan(seededRandom(seed), { tabs: tabCount, instances, maxHoldMs: 20_000, maxClockJumpSeconds: 30, maxClockOffsetSeconds: 45, calmMs: [2000, 8000], kinds });

// The site: the built public directory, copied so a deploy can change the worker script in place.
const site = mkdtempSync(join(tmpdir(), 'broker-soak-'));
cpSync('public', site, { recursive: true });

let redis: TestRedis | null = null;
// With the persistence the README asks of a deployment: an append-only file synced on every write.
if (store === 'redis') redis = await startRedisServer({ persistDir: site });
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const settings: Partial<Settings> = {
  ...LIFETIMES,
  store,
  databasePath: join(site, 'broker.sqlite'),
  ...(redis && { redisUrl: redis.url, redisPrefix: `soak:${seed}:` }),
  // What a deployment shares across restarts: the keys, so tokens and proofs stay valid.
  refreshSecret: randomBytes(32).toString('base64url'),
  signingKey: JSON.stringify(await exportJWK(privateKey)),
  publicDir: site,
  authRateLimit: 10_000,
  logLevel: 'silent',
};

const proxy = await startFaultProxy({
  login: (at, status, sid) => {
    invariants.login(at, status, sid);
    log(`login ${status}${sid ? ` family ${sid.slice(0, 8)}` : ''}`);
  },
  logout: (at) => {
    invariants.logout(at);
    log('logout answered');
  },
  refreshStarted: (at, resent) => {
    invariants.refreshStarted(at);
    tally.refreshAttempted(resent);
  },
  refreshEnded: (x) => {
    invariants.refreshEnded(x);
    const answer = `${x.status}${x.code ? ` ${x.code}` : ''}${x.reason ? ` (${x.reason})` : ''}`;
    const outcome = `${x.answerLost ? `${answer} (answer dropped)` : x.status === 0 ? 'dropped' : answer}${x.resent ? ' [the same request again]' : ''}`;
    tally.refresh(outcome);
    if (x.status !== 200 || x.answerLost) log(`refresh ${outcome}`);
  },
  apiSent: (at, sid, postId) => invariants.apiSent(at, sid, postId),
  apiAnswered: (at, status, postId) => invariants.apiAnswered(at, status, postId),
  apiUnsent: (postId) => invariants.apiUnsent(postId),
});
const servers = Array.from({ length: instances }, (_, i) =>
  serverProcess(resolve('dist/soak/server-child.js'), settings, (detail) => invariants.violate(Date.now(), 'server-error', `instance ${i}: ${detail}`)),
);
proxy.upstreams = await Promise.all(servers.map((s) => s.start()));

const executablePath = chromiumPath();
const browser: Browser = await chromium.launch({ args: chromiumArgs, ...(executablePath && { executablePath }) });
const watch = await watchServiceWorkers(browser);
const context = await browser.newContext();
let nextTabId = 0;
let seenWorkerErrors = 0;
const busy = new Set<number>();

const world: World = {
  context,
  tabs: [],
  proxy,
  servers,
  redis,
  invariants,
  site,
  workerScript: WORKER_SCRIPT,
  log,
  async drain(tab) {
    busy.add(tab.id);
    await collect(tab).catch(() => undefined);
  },
  async openTab() {
    const tab = await Tab.open(context, `${proxy.url}/`, nextTabId++);
    return tab;
  },
  async signIn(tab) {
    await tab.page.evaluate((c) => window.tokenBroker.login(c), CREDENTIALS);
    invariants.signInDone(Date.now());
    tally.logins++;
    log(`signed in from tab ${tab.id}`);
  },
};

async function collect(tab: Tab): Promise<void> {
  const { results, events: sessionEvents, oldestPending } = await tab.drain();
  for (const e of sessionEvents) {
    if (e.reason === 'controllerchange') tally.takeovers++;
    else invariants.pageSessionEvent(tab.id, e.reason, e.at);
    if (e.reason !== 'refresh') log(`tab ${tab.id} told: ${e.reason}`);
  }
  for (const r of results) {
    tally.page(r);
    invariants.pageResult(r);
  }
  invariants.pending(tab.id, oldestPending, Date.now());
}

const serverHeap: MemorySample[] = [];
const workerHeap: MemorySample[] = [];
async function sampleMemory(): Promise<void> {
  // The first instance stands for all: they run the same code on the same traffic.
  const server_ = await servers[0]!.memory();
  if (server_) serverHeap.push({ at: Date.now(), bytes: server_.heapUsed });
  const heaps = await watch.heaps();
  if (heaps.length) workerHeap.push({ at: Date.now(), bytes: Math.max(...heaps.map((h) => h.usedBytes)) });
}

for (let i = 0; i < tabCount; i++) world.tabs.push(await world.openTab());
await world.signIn(world.tabs[0]!);

// Observation runs beside the faults: every half second each tab is drained and the clocks checked.
let observing = true;
const observer = (async () => {
  let lastMemory = Date.now();
  while (observing) {
    await new Promise((r) => setTimeout(r, 500));
    for (const tab of [...world.tabs]) if (!busy.has(tab.id)) await collect(tab).catch(() => undefined);
    for (const e of watch.errors.slice(seenWorkerErrors)) invariants.workerError(e.at, `${e.url}: ${e.text}`);
    seenWorkerErrors = watch.errors.length;
    invariants.checkRecovery(Date.now());
    if (Date.now() - lastMemory > 20_000) {
      lastMemory = Date.now();
      await sampleMemory();
    }
  }
})();

const deadline = started + seconds * 1000;
// A stuck step (a page that never answers, a server that never starts) is a failure too, not a hang of the soak.
const watchdog = setTimeout(() => {
  console.error(`\nsoak STALLED (seed ${seed}): nothing ended ${seconds + 180} s after the start\nreplay: ${replay}\n\nevent log (last ${events.length}):\n${events.join('\n')}`);
  process.exit(1);
}, (seconds + 180) * 1000);
watchdog.unref();
let faultError: unknown = null;
try {
  while (Date.now() < deadline && !failed) {
    await new Promise((r) => setTimeout(r, plan.calm()));
    if (failed) break;
    // A session that ended by the rules (its lifetime, a lost rotation) is started again, as a user would.
    if (!invariants.signedIn) await world.signIn(world.tabs[0]!);
    const fault = plan.next();
    tally.fault(fault.kind);
    log(`fault ${JSON.stringify(fault)}`);
    const outage = fault.kind === 'refresh-5xx' || fault.kind === 'refresh-429' || fault.kind === 'refresh-drop';
    if (outage) tally.outageStarted(fault.kind, Date.now());
    invariants.faultStarted();
    await inject(world, fault);
    if (outage) tally.outageEnded(Date.now());
    for (const tab of world.tabs) busy.delete(tab.id);
    log(`fault ${fault.kind} over`);
    invariants.faultEnded(fault.kind, Date.now(), world.tabs.map((t) => t.id));
  }
  // The last fault gets its time to recover.
  const settleUntil = Date.now() + 60_000;
  while (!failed && invariants.awaitingRecovery > 0 && Date.now() < settleUntil) {
    await new Promise((r) => setTimeout(r, 500));
    // As in the loop: a session the last fault ended by the rules is started again, or nothing could recover.
    if (!failed && !invariants.signedIn) await world.signIn(world.tabs[0]!);
  }
} catch (err) {
  faultError = err;
  invariants.violate(Date.now(), 'no-recovery', `the soak could not carry out a fault: ${err instanceof Error ? err.message : String(err)}`);
}
observing = false;
await observer;
await sampleMemory();

const mbPair = (samples: MemorySample[], slack: number): [number, number] | null => {
  const growth = memoryGrowth(samples, slack);
  if (!growth) return null;
  if (growth.grew) invariants.violate(Date.now(), 'memory-growth', `heap grew from ${growth.from} to ${growth.to} bytes`);
  return [Math.round(growth.from / 1e5) / 10, Math.round(growth.to / 1e5) / 10];
};
const memory = { serverHeapMb: mbPair(serverHeap, 20e6), workerHeapMb: mbPair(workerHeap, 5e6) };

const report: SoakReport = {
  seed,
  store,
  instances,
  plannedSeconds: seconds,
  ranSeconds: (Date.now() - started) / 1000,
  tabs: tabCount,
  machine: { cpus: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, chromium: browser.version() },
  requests: { total: Object.values(tally.requests).reduce((a, b) => a + b, 0), byMethod: tally.requests },
  pageFailures: tally.failures,
  pageUnauthorized: invariants.pageUnauthorized,
  faults: tally.faults,
  refreshes: tally.refreshes,
  outageRefreshes: outageSummary(tally.outages),
  logins: tally.logins,
  takeovers: tally.takeovers,
  sessions: sessionSummary(invariants, tally.logins),
  recoveryMs: recoverySummary(invariants),
  memory,
  violations: invariants.violations,
};
writeFileSync(args.out!, JSON.stringify(report, null, 2));

await watch.close();
await browser.close();
await Promise.all(servers.map((s) => s.stop()));
await proxy.close();
await redis?.stop();
rmSync(site, { recursive: true, force: true });

console.log(markdown(report));
if (report.violations.length > 0) {
  console.error(`\nsoak FAILED (seed ${seed}): ${report.violations[0]!.invariant}: ${report.violations[0]!.detail}`);
  if (faultError) console.error(faultError);
  console.error(`replay: ${replay}\n\nevent log (last ${events.length}):\n${events.join('\n')}`);
  process.exit(1);
}
console.log(`\nsoak passed (seed ${seed}); report in ${args.out}`);
