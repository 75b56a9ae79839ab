// Found by an attack review of issue 24: the logout body's `reason` is the worker's word
// that it met another account (a planted cookie) or a replaced key, and the
// server turns it into an `account_changed` / `key_replaced` event and a warning
// log line ("the worker ended a session") that operators are told to chase
// (README troubleshooting: "look for a sibling subdomain"). Nothing ties the
// body to the worker: any client that sends the static header, without a cookie
// and without Origin (curl), made the server report it as often as it liked.
// A reason now counts only when the logout revoked a session.
import { expect, test } from '@playwright/test';
import { buildServer, type BrokerServer } from './app';
import { BEARER_TEST_SETTINGS } from './test-settings';

let server: BrokerServer;
test.beforeEach(async () => {
  server = await buildServer({ ...BEARER_TEST_SETTINGS });
});
test.afterEach(() => server.app.close());

test('an anonymous logout that names a worker reason revokes nothing and is not reported as the worker ending a session', async () => {
  for (const reason of ['account_changed', 'key_replaced']) {
    for (let i = 0; i < 20; i++) {
      const res = await server.app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-token-broker': '1', 'content-type': 'application/json' }, payload: JSON.stringify({ reason }) });
      expect(res.statusCode).toBe(200);
    }
  }
  // No family was revoked, no worker was involved: nothing for an operator to chase.
  expect({ accountChanged: server.stats.accountChanged, keyReplaced: server.stats.keyReplaced }).toEqual({ accountChanged: 0, keyReplaced: 0 });
});

test('a logout sent twice with the same cookie (a retry whose first answer was lost) is counted and reported once', async () => {
  const login = await server.app.inject({ method: 'POST', url: '/auth/login', headers: { 'x-token-broker': '1', 'content-type': 'application/json' }, payload: JSON.stringify({ username: 'alice', password: 'wonderland' }) });
  const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  for (let i = 0; i < 2; i++) {
    const res = await server.app.inject({ method: 'POST', url: '/auth/logout', headers: { 'x-token-broker': '1', 'content-type': 'application/json', cookie }, payload: JSON.stringify({ reason: 'key_replaced' }) });
    expect(res.statusCode).toBe(200);
  }
  expect(server.stats.keyReplaced).toBe(1);
});
