// Routes outside the API prefixes that report whether a token reached them:
// the e2e tests use them to prove where the worker does not inject.
import type { FastifyInstance, FastifyRequest } from 'fastify';

const report = async (request: FastifyRequest) => ({ authorization: request.headers.authorization !== undefined });

export async function probeRoutes(app: FastifyInstance): Promise<void> {
  for (const path of ['/public/ping', '/apix/ping', '/ping-auth']) app.get(path, report);
  // Readable cross-origin, so a page on another port can see what arrived.
  app.get('/cors/ping-auth', async (request, reply) => {
    reply.header('access-control-allow-origin', '*');
    return report(request);
  });
  app.get('/health', async () => ({ status: 'ok' }));
}
