// Review (brief R): the doctor with test credentials against a plain-http
// origin that is not this machine. It reports not_secure_context, and then
// signs in anyway: the password crosses the network in clear text, to
// whoever answers on the way (a hostile network, a captive portal, a typo in
// the scheme). The server here listens on this machine's first non-loopback
// address, so the doctor sees a non-loopback http origin.
import { expect, test } from '@playwright/test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { runDoctor } from './run';

function nonLoopbackIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

test('with test credentials and a plain-http origin that is not loopback, the doctor does not send the password', async () => {
  const host = nonLoopbackIPv4();
  test.skip(!host, 'no non-loopback IPv4 address on this machine');
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(`${req.method} ${req.url} ${body}`);
      if (req.method === 'GET' && req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>');
      if (req.method === 'POST') return res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_credentials"}');
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  try {
    const url = `http://${host}:${(server.address() as AddressInfo).port}/`;
    const report = await runDoctor({ url, worker: '/sw.js', page: '/', credentials: { username: 'doctor-test', password: 'the-staging-password' }, timeoutMs: 5_000 });
    expect(JSON.stringify(report)).toContain('not_secure_context');
    expect(bodies.filter((b) => b.includes('the-staging-password'))).toEqual([]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
