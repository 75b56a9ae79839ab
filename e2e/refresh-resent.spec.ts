// A refresh whose answer is lost on the way back (the server rotated; the
// connection was reset before the browser read the answer). Chromium's network
// stack then sends the very same request again on a new connection, DPoP proof
// included; the server refuses that proof as replayed (its jti is used). Found
// by the chaos soak: the worker took that 400 for the end of the session and
// signed the user out over a network blip. It must try once more with a fresh
// proof, which the rotation grace window answers with the same successor.
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, login, openApp, status, test } from './support/fixtures';

interface Seen {
  proof: string | null;
  status: number;
  lost: boolean;
}

/** Forwards everything to `upstream`; while `dropNext` is set, the next refresh's answer is read and the connection reset. */
async function lossyProxy(upstream: string) {
  const target = new URL(upstream);
  const refreshes: Seen[] = [];
  const state = { dropNext: false };
  const server = createServer((req, res) => {
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer: IncomingMessage) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const isRefresh = req.url === '/auth/refresh';
        const lost = isRefresh && state.dropNext;
        if (isRefresh) refreshes.push({ proof: (req.headers.dpop as string | undefined) ?? null, status: answer.statusCode ?? 0, lost });
        if (lost) {
          state.dropNext = false;
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(Buffer.concat(chunks));
      });
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refreshes,
    state,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

test('a refresh answer lost after the server rotated: the browser resends the same proof, and the session survives', async ({ page, server }) => {
  const proxy = await lossyProxy(server.url);
  try {
    await openApp(page, proxy);
    await login(page);
    // The worker's connection to the proxy is warm (the login), as it is in a live app.
    const before = proxy.refreshes.length;
    proxy.state.dropNext = true;
    const outcome = await page.evaluate(() =>
      window.tokenBroker.refresh().then(
        (s) => (s.authenticated ? 'signed in' : 'signed out'),
        (e: { code: string }) => e.code,
      ),
    );
    const [lost, ...after] = proxy.refreshes.slice(before);
    expect(lost).toMatchObject({ status: 200, lost: true });
    // What the soak saw: the network stack sent the request again, proof and all, and the server refused the replayed proof.
    expect(after[0]).toMatchObject({ proof: lost!.proof, status: 400 });
    expect(outcome).toBe('signed in');
    expect((await status(page)).authenticated).toBe(true);
    expect(after.at(-1)!.status).toBe(200);
    expect(after.at(-1)!.proof).not.toBe(lost!.proof);
  } finally {
    await proxy.close();
  }
});
