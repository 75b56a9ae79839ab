// Graceful shutdown that does not hang. Fastify's close() waits for requests
// in flight, but Node's server.close() drops idle keep-alive connections only
// once, when it is called: a connection busy at that moment stays open after
// its response until the keep-alive timeout (72 s in Fastify), and close()
// waits all that time. Responses sent while closing ask the client to hang up.
import type { FastifyInstance } from 'fastify';

export function closeConnectionsWhenClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
}
