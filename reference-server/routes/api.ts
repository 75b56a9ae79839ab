// The demo API: routes behind the broker's access-token guard (bearer or
// DPoP, with sliding renewal when RENEW_HEADER is set).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { requireAccessToken, tokenClaims } from '../../server/entries/fastify';
import type { TokenBrokerServer } from '../../server/entries/index';

export async function apiRoutes(app: FastifyInstance, broker: TokenBrokerServer): Promise<void> {
  // One guard per request: a DPoP proof is single-use, so a second check of it (a route's
  // stricter guard after the app-wide one) would be refused as a replay.
  const guard = requireAccessToken(broker);
  const recentSignIn = requireAccessToken(broker, { maxAge: 300 });
  const passkeySignIn = requireAccessToken(broker, { acrValues: ['phr'] });
  const guards: Record<string, typeof guard> = { '/api/sensitive': recentSignIn, '/api/transfer': passkeySignIn };
  app.addHook('preHandler', function (request, reply) {
    return (guards[request.routeOptions.url ?? ''] ?? guard).call(this, request, reply);
  });
  const claims = tokenClaims;

  app.get('/api/me', async (request) => {
    const { sub, name, role, exp, iat } = claims(request);
    return { sub, name, role, exp, iat };
  });

  app.get('/api/time', async () => ({ now: new Date().toISOString() }));

  // RFC 9470 step-up: an operation that needs a sign-in of the last 5 minutes; a refresh does not count.
  app.post('/api/sensitive', async (request) => {
    const { sub, auth_time, acr } = claims(request);
    return { sub, auth_time, acr };
  });

  // Step-up with a passkey: only a token stepped up with one (acr phr) passes.
  app.post('/api/transfer', async (request) => {
    const { sub, auth_time, acr, amr } = claims(request);
    return { sub, auth_time, acr, amr };
  });

  const echo = async (request: FastifyRequest) => ({ sub: claims(request).sub, body: request.body ?? null });
  app.post('/api/echo', echo);
  app.put('/api/echo', echo);

  // Any content type, byte for byte: what a replayed request must reproduce.
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    raw.post('/api/echo-raw', async (request) => {
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      return {
        sub: claims(request).sub,
        method: request.method,
        contentType: request.headers['content-type'] ?? null,
        length: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      };
    });
  });

  app.get('/api/headers', async (request) => {
    // The proof names the token (ath), so it stays out of what the page sees, like the token;
    // cookies too: page script must never read an HttpOnly cookie back through an API.
    const { authorization: _omitted, dpop: _proof, cookie: _cookies, ...headers } = request.headers;
    return { ...headers, authorized: true, sub: claims(request).sub };
  });

  // An API response that redirects (the tests check the token does not follow).
  // Same-origin paths only: an open redirect to anywhere would serve phishing.
  app.get('/api/redirect', async (request, reply) => {
    const to = (request.query as { to?: unknown }).to;
    if (typeof to !== 'string' || !/^\/(?![/\\])/.test(to) || to.includes('\\')) {
      return reply.code(400).send({ error: 'bad_request', message: 'to must be a path on this origin' });
    }
    return reply.redirect(to, 302);
  });

  // Sign out everywhere: revokes every refresh family of the caller.
  app.post('/api/sessions/revoke-all', async (request) => ({ revoked: await broker.revokeUser(claims(request).sub) }));
}
