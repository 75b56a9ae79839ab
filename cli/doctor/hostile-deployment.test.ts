// A hostile deployment (a compromised staging host the operator points the
// doctor at), from an attack review: what it sends reaches no terminal raw,
// and what it breaks off is "unreachable" (exit 2), not a crash.
import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { doctorCommand } from './command';
import { Results } from './findings';
import { formatJson } from './format';
import { checkWorkerScript } from './worker-checks';

// A configuration key, after JSON parsing, is whatever the served script says.
const HOSTILE_SCRIPT = 'self.tokenBrokerConfig??={"\\u202eok \\u009b2J\\u2028x":1};\n';

test('--json escapes a bidi override, a C1 CSI and a line separator the deployment sent, as text mode does, and stays the same JSON', () => {
  const r = new Results();
  checkWorkerScript(
    { url: 'https://app.example/sw.js', status: 200, headers: { 'content-type': 'text/javascript', 'cache-control': 'no-cache' }, setCookies: [], body: HOSTILE_SCRIPT },
    [],
    true,
    r,
  );
  const json = formatJson({ url: 'https://app.example/', ok: false, findings: r.findings, passed: r.passed });
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ url: 'https://app.example/', ok: false, findings: r.findings, passed: r.passed })));
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('a deployment that closes the connection in the middle of a body is unreachable (exit status 2), not a crash', async () => {
  const server = createServer((req, res) => {
    // Headers, part of the body, then the connection goes: a reset proxy, a crashed upstream.
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': '10000' });
    res.write('<!doctype html>');
    setTimeout(() => req.socket.destroy(), 20);
  });
  const url = await listen(server);
  const errors: string[] = [];
  try {
    const status = await doctorCommand([url], {}, () => undefined, (e) => void errors.push(e)).catch((e: unknown) => `threw ${String(e)}`);
    expect(status).toBe(2);
    expect(errors.join()).toContain('cannot reach the deployment');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
