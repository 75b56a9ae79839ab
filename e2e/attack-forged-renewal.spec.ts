// Attack (review of issue 24): the renewal check compares only `sub`, `sid` and
// `cnf.jkt`, read from a token the worker decodes without verifying it. An API
// route (or whatever sets its response headers: the brief's malicious route)
// answers a renewal that is no token the server issued: alice's own binding
// copied into an unsigned JWT with other claims and a far expiry. The worker
// takes it: the page's session now shows the route's claims (role "admin"
// for alice, a reader), and every API call carries the forged token. The
// README says any other token "is dropped and the session is unchanged".
import { apiFetch, expect, login, openApp, status, test } from './support/fixtures';

test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, renewHeader: 'x-renewed-token', workerConfig: { dpop: false, renewHeader: 'x-renewed-token' } } });

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('a renewal header with an unsigned token that copies the session binding is dropped: the claims the page sees stay the server\'s', async ({ context, page, server }) => {
  await openApp(page, server);
  expect((await login(page)).claims).toMatchObject({ sub: 'alice', role: 'reader' });
  await context.route('**/api/forge', async (route) => {
    const token = route.request().headers()['authorization']!.replace(/^Bearer /, '');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, role: 'admin', exp: Math.floor(Date.now() / 1000) + 365 * 86400 })}.`;
    await route.fulfill({ status: 200, contentType: 'application/json', headers: { 'x-renewed-token': forged }, body: '{}' });
  });
  expect((await apiFetch(page, '/api/forge')).status).toBe(200);
  const session = await status(page);
  expect({ role: session.claims.role, me: (await apiFetch(page, '/api/me')).status }).toEqual({ role: 'reader', me: 200 });
  expect(server.stats.apiUnauthorized).toBe(0);
});
