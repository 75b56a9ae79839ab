// Graceful shutdown that does not hang. Fastify's close() waits for requests
// in flight, but Node's server.close() drops idle keep-alive connections only
// once, when it is called: a connection busy at that moment stays open after
// its response until the keep-alive timeout (72 s in Fastify), and close()
// waits all that time. Responses sent while closing ask the client to hang up.
// And a socket a browser opened ahead of need (Chromium preconnects) has sent
// no request at all, so nothing ever tells it to go: after `graceMs` every
// connection still open is destroyed, whatever it is doing.
import type { FastifyInstance } from 'fastify';

export function closeConnectionsWhenClosing(app: FastifyInstance, graceMs = 5_000): void {
  let closing = false;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  app.addHook('preClose', async () => {
    closing = true;
    deadline = setTimeout(() => app.server.closeAllConnections(), graceMs);
    deadline.unref();
  });
  app.addHook('onClose', async () => clearTimeout(deadline));
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
}
