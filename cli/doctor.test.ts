// `token-broker doctor`, the built command as the package ships it, against the
// reference server on a free loopback port: the correct setup passes, and each
// wrong one is caught with its code. https on loopback: the same Fastify app
// behind Node's https server with a self-signed certificate made here by
// openssl, which the doctor trusts through NODE_EXTRA_CA_CERTS (as an adopter
// checking a staging site with its own CA would); that server adds HSTS, as
// the TLS-terminating proxy of a deployment does.
import { expect, test } from '@playwright/test';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from './doctor/findings';
import { buildServer } from '../reference-server/app';
import { DEFAULT_SETTINGS, type Settings } from '../reference-server/settings';

const CREDENTIALS = ['--user', 'alice', '--password', 'wonderland'];
let certDir: string;

test.beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'broker-doctor-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
});

interface Target {
  url: string;
  close(): Promise<void>;
}
interface TargetOptions {
  https?: boolean;
  /** Rewrites answers, as a misconfigured proxy or CDN would. */
  onSend?: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
  /** Rewrites requests before the app sees them. */
  onRequest?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

async function target(overrides: Partial<Settings> = {}, options: TargetOptions = {}): Promise<Target> {
  const { app } = await buildServer({ ...DEFAULT_SETTINGS, host: '127.0.0.1', port: 0, databasePath: ':memory:', logLevel: 'silent', ...overrides });
  if (options.onSend) app.addHook('onSend', options.onSend);
  if (options.onRequest) app.addHook('onRequest', options.onRequest);
  if (!options.https) {
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  }
  await app.ready();
  const tls: Server = createServer({ key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) }, (req, res) => {
    res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
    app.routing(req, res);
  });
  await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(tls.address() as AddressInfo).port}`,
    close: async () => {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
      await app.close();
    },
  };
}

/** The built bin, asynchronously: the server under test runs in this process. */
function doctor(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; report: Report | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/bin/token-broker.js', 'doctor', ...args], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => {
      let report: Report | null = null;
      try {
        report = JSON.parse(stdout) as Report;
      } catch {
        // Not --json, or a usage error.
      }
      resolve({ status, stdout, stderr, report });
    });
  });
}

const codes = (report: Report | null, level?: string) => (report?.findings ?? []).filter((f) => !level || f.level === level).map((f) => f.code);

let server: Target | null = null;
test.afterEach(async () => {
  await server?.close();
  server = null;
});

test('the reference setup (sw-dpop.js, DPoP required with nonces, strict CSP) passes, test login included', async () => {
  server = await target();
  const { status, report } = await doctor(server.url, '--worker', '/sw-dpop.js', ...CREDENTIALS, '--json');
  expect(codes(report, 'fail')).toEqual([]);
  expect(codes(report, 'warn')).toEqual([]);
  expect(status).toBe(0);
  expect(report!.passed).toContain('the server demands its DPoP nonce (use_dpop_nonce with a DPoP-Nonce header)');
  expect(report!.passed).toContain('a login with a DPoP proof gets a DPoP-bound token');
  // Plain http on loopback: the development cookie, said so, not failed.
  expect(codes(report, 'info')).toContain('cookie_development');
});

test('over https the same setup passes, with the __Host-Http- cookie Secure, HttpOnly, Strict, Path=/', async () => {
  server = await target({}, { https: true });
  const { status, report, stderr } = await doctor(server.url, '--worker', '/sw-dpop.js', ...CREDENTIALS, '--json');
  expect(stderr).toBe('');
  expect(codes(report, 'fail')).toEqual([]);
  expect(codes(report, 'warn')).toEqual([]);
  expect(status).toBe(0);
  for (const line of ['refresh cookie __Host-Http-broker_rt is Secure', 'refresh cookie has the __Host-Http- prefix', 'HSTS on (max-age 31536000 s)', 'logout clears __Host-Http-broker_rt']) {
    expect(report!.passed).toContain(line);
  }
});

test('a cookie without Secure on https fails with cookie_not_secure (and loses its prefix and Path=/)', async () => {
  server = await target({ cookieSecure: false }, { https: true });
  const { status, report } = await doctor(server.url, '--worker', '/sw-dpop.js', ...CREDENTIALS, '--json');
  expect(codes(report, 'fail')).toEqual(['cookie_not_secure']);
  expect(codes(report, 'warn')).toEqual(expect.arrayContaining(['cookie_no_host_http_prefix', 'cookie_path_not_root']));
  expect(status).toBe(1);
});

test('a worker script a cache may keep fails with worker_cached', async () => {
  server = await target(
    {},
    {
      onSend: async (request, reply, payload) => {
        if (request.url === '/sw-dpop.js') reply.header('cache-control', 'public, max-age=86400');
        return payload;
      },
    },
  );
  const { status, report } = await doctor(server.url, '--worker', '/sw-dpop.js', '--json');
  expect(codes(report, 'fail')).toEqual(['worker_cached']);
  expect(report!.findings.find((f) => f.code === 'worker_cached')!.message).toContain('86400 s');
  expect(status).toBe(1);
});

test('a worker script served without its configuration line fails with worker_config_missing', async () => {
  server = await target(
    {},
    {
      onSend: async (request, _reply, payload) => (request.url === '/sw-dpop.js' && typeof payload === 'string' ? payload.slice(payload.indexOf('\n') + 1) : payload),
    },
  );
  const { status, report, stdout } = await doctor(server.url, '--worker', '/sw-dpop.js');
  expect(status).toBe(1);
  expect(stdout).toMatch(/^FAIL worker_config_missing: \/sw-dpop\.js sets no self\.tokenBrokerConfig/m);
  expect(stdout).toContain('fix:  serve it with configuredWorkerScript()');
  expect(report).toBeNull();
});

test('DPoP without server nonces is a warning (dpop_nonce_off), a failure with --strict', async () => {
  server = await target({ dpopNonce: false });
  const plain = await doctor(server.url, '--worker', '/sw-dpop.js', ...CREDENTIALS, '--json');
  expect(codes(plain.report, 'warn')).toEqual(['dpop_nonce_off']);
  expect(plain.report!.findings.find((f) => f.code === 'dpop_nonce_off')!.rule).toContain('RFC 9449 §8');
  expect(plain.status).toBe(0);
  expect((await doctor(server.url, '--worker', '/sw-dpop.js', '--strict', '--json')).status).toBe(1);
});

test('a page that redirects (/ to /index.html) is judged where it ends', async () => {
  server = await target(
    {},
    {
      onRequest: async (request, reply) => {
        if (request.url === '/') await reply.redirect('/index.html');
      },
    },
  );
  const { status, report } = await doctor(server.url, '--worker', '/sw-dpop.js', '--json');
  expect(report!.passed).toContain('scope / covers the page /index.html');
  expect(report!.passed).toContain('/index.html has a Content-Security-Policy that restricts script');
  expect(status).toBe(0);
});

test('a page without a Content-Security-Policy is flagged no_csp', async () => {
  server = await target({ contentSecurityPolicy: '' });
  const { status, report } = await doctor(server.url, '--worker', '/sw-dpop.js', '--json');
  expect(codes(report, 'warn')).toEqual(['no_csp']);
  expect(status).toBe(0);
});

test('a proxy that adds the static header to every request defeats the CSRF rule: csrf_header_not_required', async () => {
  server = await target(
    {},
    {
      onRequest: async (request) => {
        request.headers['x-token-broker'] = '1';
      },
    },
  );
  const { status, report } = await doctor(server.url, '--worker', '/sw-dpop.js', ...CREDENTIALS, '--json');
  expect(new Set(codes(report, 'fail'))).toEqual(new Set(['csrf_header_not_required']));
  expect(status).toBe(1);
});

test('the bearer sw.js before a server that requires DPoP fails with dpop_required_worker_bearer', async () => {
  server = await target();
  const { status, report } = await doctor(server.url, '--json');
  expect(codes(report, 'fail')).toEqual(['dpop_required_worker_bearer']);
  expect(status).toBe(1);
});

test('usage errors and an unreachable deployment exit 2', async () => {
  expect((await doctor()).status).toBe(2);
  expect((await doctor('ftp://example.test')).status).toBe(2);
  expect((await doctor('http://127.0.0.1:9', '--user', 'alice')).status).toBe(2);
  const down = await doctor('http://127.0.0.1:9');
  expect(down.status).toBe(2);
  expect(down.stderr).toContain('cannot reach the deployment');
});
