// `npm run bench:revocation`: what the instant-revocation check costs an API
// request, per store, as a ratio against the same store with the check off,
// measured in the same run. For each store, brokers that differ only in the
// check call authenticate() (what requireAccessToken() of both adapters calls)
// with a valid bearer token, in interleaved rounds (the order rotates each
// round, so drift on a shared machine hits every variant alike); the figure is
// the median per-request time over rounds. A second broker without the check
// (A/A) shows the run's noise. The lookup alone (the store's accessRevoked,
// timed without the rest of authenticate()) is measured too: the absolute cost.
// The revocation list holds 1,000 other revoked sessions, as after a busy few minutes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenBroker, type TokenBrokerServer } from '../server/entries/index';
import { openRedisStore } from '../server/entries/redis';
import { openSqliteStore } from '../server/entries/sqlite';
import { startRedisServer } from '../test-support/redis-server';
import { median, ratio, round } from './stats';

const REQUESTS = Number(process.env.BENCH_REQUESTS || 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const OTHER_REVOKED = 1000;
const SECRET = Buffer.alloc(32, 1).toString('base64url');
const WORKER = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1' };

const variantsWithCheck: Variant[] = [];

interface Variant {
  name: string;
  broker: TokenBrokerServer;
  token: string;
}

async function variant(name: string, store: Parameters<typeof createTokenBroker>[0]['store'], revocationCheck: boolean, signingKey?: string): Promise<Variant> {
  const broker = await createTokenBroker({
    store,
    revocationCheck,
    refreshSecret: SECRET,
    signingKey,
    limits: { perIp: 1e9, perAccount: 1e9 },
    verifyCredentials: (c) => ({ sub: String(c.username) }),
  });
  const request = (username: string) => ({ method: 'POST', url: '/auth/login', origin: WORKER.origin, headers: WORKER, body: { username }, ip: '127.0.0.1' });
  // Other users' sessions, ended: the list the check looks in is not empty.
  if (revocationCheck) for (let i = 0; i < OTHER_REVOKED; i++) await broker.login(request(`user${i}`)).then(() => broker.revokeUser(`user${i}`));
  const response = await broker.login(request('alice'));
  const v = { name, broker, token: (response.body as { access_token: string }).access_token };
  if (revocationCheck) variantsWithCheck.push(v);
  return v;
}

/** Microseconds per authenticate() over `n` sequential calls. */
async function time(v: Variant, n: number): Promise<number> {
  const request = { method: 'GET', url: '/api/me', origin: WORKER.origin, headers: { authorization: `Bearer ${v.token}` }, ip: '127.0.0.1' };
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const result = await v.broker.authenticate(request);
    if (!result.ok) throw new Error(`${v.name}: refused with ${result.response.status}`);
  }
  return Number(process.hrtime.bigint() - started) / 1000 / n;
}

/** Microseconds per lookup in the revocation list alone, over `n` sequential calls. */
async function lookup(v: Variant, n: number): Promise<number> {
  const sid = JSON.parse(Buffer.from(v.token.split('.')[1]!, 'base64url').toString()).sid as string;
  for (let i = 0; i < 500; i++) await v.broker.refreshTokens.accessRevoked(sid);
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (await v.broker.refreshTokens.accessRevoked(sid)) throw new Error(`${v.name}: listed`);
  return Number(process.hrtime.bigint() - started) / 1000 / n;
}

async function measure(variants: Variant[]): Promise<Map<string, number>> {
  for (const v of variants) await time(v, 500); // warm-up: JIT, prepared statements, connections
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length]!;
      samples.get(v.name)!.push(await time(v, REQUESTS));
    }
  }
  return new Map([...samples].map(([name, xs]) => [name, median(xs)]));
}

const dir = mkdtempSync(join(tmpdir(), 'broker-bench-revocation-'));
const redis = await startRedisServer();
const report: Record<string, unknown> = { requests: REQUESTS, rounds: ROUNDS, otherRevoked: OTHER_REVOKED, cpus: cpus().length, cpu: cpus()[0]?.model };
try {
  // One file for both SQLite brokers, as instances on one host share it.
  const file = join(dir, 'broker.sqlite');
  const sqlite = await measure([
    await variant('sqlite, no check', openSqliteStore(file), false),
    await variant('sqlite, no check again (A/A)', openSqliteStore(file), false),
    await variant('sqlite, check', openSqliteStore(file), true),
  ]);
  const prefix = 'bench:';
  const redisStore = (revocationCache = true) => openRedisStore({ url: redis.url, prefix, revocationCache });
  const onRedis = await measure([
    await variant('redis, no check', await redisStore(), false),
    await variant('redis, no check again (A/A)', await redisStore(), false),
    await variant('redis, check (pub/sub cache)', await redisStore(), true),
    await variant('redis, check without cache (a round trip)', await redisStore(false), true),
  ]);
  const checked = [...variantsWithCheck];
  const lookups = new Map<string, number>();
  for (const v of checked) lookups.set(v.name, await lookup(v, REQUESTS * 5));
  const rows: [string, number, number][] = [];
  for (const [results, baseline] of [[sqlite, 'sqlite, no check'], [onRedis, 'redis, no check']] as const) {
    for (const [name, us] of results) rows.push([name, us, ratio(us, results.get(baseline)!)]);
  }
  console.log(`authenticate() per request, median of ${ROUNDS} rounds of ${REQUESTS}; ratio against the same store without the check`);
  for (const [name, us, r] of rows) console.log(`${name.padEnd(44)} ${round(us, 1).toFixed(1).padStart(7)} µs  ${r.toFixed(2)}`);
  console.log('the lookup alone (accessRevoked), per call:');
  for (const [name, us] of lookups) console.log(`${name.padEnd(44)} ${round(us, 2).toFixed(2).padStart(7)} µs`);
  report.results = rows.map(([name, us, r]) => ({ name, microseconds: round(us, 1), ratio: r }));
  report.lookups = [...lookups].map(([name, us]) => ({ name, microseconds: round(us, 2) }));
  writeFileSync('bench/revocation-report.json', JSON.stringify(report, null, 2));
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
