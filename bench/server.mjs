// `npm run bench:server`: throughput and latency of the reference server, per
// store, for a trivial route (GET /health) and for POST /auth/refresh, which
// rotates a refresh token on every call. The server runs in its own process
// (as `npm start` runs it), so that autocannon, in this one, does not share its
// event loop; on two cores each gets one.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '../dist/test-support/redis-server.js';

const DURATION = Number(process.env.BENCH_SECONDS || 8);
const CONNECTIONS = 10;
const COOKIE = '__Host-Http-broker_rt';
const WORKER_HEADERS = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };

async function startServerProcess(env) {
  const child = spawn(process.execPath, ['dist/reference-server/index.js'], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', PUBLIC_DIR: 'public', AUTH_RATE_LIMIT: '1000000000', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return {
    url,
    async stop() {
      child.removeAllListeners('exit');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function loginCookie(url) {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { ...WORKER_HEADERS, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return cookieOf(res.headers.getSetCookie());
}

function cookieOf(setCookie) {
  for (const line of [setCookie].flat()) {
    const match = new RegExp(`^${COOKIE}=([^;]+)`).exec(line ?? '');
    if (match) return match[1];
  }
  return undefined;
}

function summary(result) {
  return {
    reqPerSec: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function measureHealth(url) {
  // A second of warm-up, not counted: the first requests pay for JIT compilation.
  await autocannon({ url: `${url}/health`, connections: CONNECTIONS, duration: 1 });
  return summary(await autocannon({ url: `${url}/health`, connections: CONNECTIONS, duration: DURATION }));
}

// Each refresh spends its cookie and yields the next one. Cookies wait in one
// pool: a connection takes one for each request and puts the successor back
// when the answer comes, so every request presents a current token.
async function measureRefresh(url) {
  const pool = await Promise.all(Array.from({ length: CONNECTIONS * 2 }, () => loginCookie(url)));
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        path: '/auth/refresh',
        setupRequest: (request) => {
          const token = pool.shift();
          return { ...request, headers: { ...WORKER_HEADERS, ...(token && { cookie: `${COOKIE}=${token}` }) } };
        },
        onResponse: (status, _body, _context, headers) => {
          const next = status === 200 && cookieOf(headers['set-cookie']);
          if (next) pool.push(next);
        },
      },
    ],
  });
  return summary(result);
}

async function benchStore(name, env) {
  const server = await startServerProcess(env);
  try {
    const health = await measureHealth(server.url);
    const refresh = await measureRefresh(server.url);
    return { store: name, health, refresh, refreshToHealth: Number((refresh.reqPerSec / health.reqPerSec).toFixed(3)) };
  } finally {
    await server.stop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'broker-bench-'));
const redis = await startRedisServer();
const results = [];
try {
  results.push(await benchStore('sqlite', { STORE: 'sqlite', DATABASE_PATH: join(dir, 'broker.sqlite') }));
  results.push(
    await benchStore('redis', {
      STORE: 'redis',
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'bench:',
      REFRESH_SECRET: randomBytes(32).toString('base64url'),
    }),
  );
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.table(
  results.flatMap((r) => [
    { store: r.store, route: 'GET /health', ...r.health },
    { store: r.store, route: 'POST /auth/refresh', ...r.refresh, 'refresh/health': r.refreshToHealth },
  ]),
);
const failed = results.filter((r) => r.refresh.non2xx || r.refresh.errors || r.health.non2xx || r.health.errors);
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, platform: process.platform },
  durationSeconds: DURATION,
  connections: CONNECTIONS,
  results,
};
writeFileSync('bench/server-report.json', `${JSON.stringify(report, null, 2)}\n`);
console.log('written to bench/server-report.json');
if (failed.length) {
  console.error(`non-2xx answers or errors during the run (${failed.map((r) => r.store).join(', ')}): the figures are not comparable`);
  process.exitCode = 1;
}
