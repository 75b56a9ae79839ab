// Demo API routes behind a Bearer access token, plus the optional sliding
// renewal header.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import type { AccessClaims } from '../access-tokens';
import { announceNonce, missingTokenChallenge, requestUrl, sendDpopUnauthorized } from '../dpop-http';
import { sendError } from '../errors';
import type { RouteDeps } from './deps';

declare module 'fastify' {
  interface FastifyRequest {
    claims?: AccessClaims;
  }
}

const AUTHORIZATION = /^(Bearer|DPoP) ([A-Za-z0-9_.-]+)$/;

export async function apiRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { settings, users, accessTokens, refreshTokens, stats, dpop } = deps;
  const challenge = missingTokenChallenge(dpop.mode);

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    announceNonce(reply, dpop);
    const match = AUTHORIZATION.exec(request.headers.authorization ?? '');
    const scheme = match?.[1];
    const claims = match ? await accessTokens.verify(match[2]!) : null;
    if (!claims || (scheme === 'DPoP' && dpop.mode === 'off')) {
      stats.apiUnauthorized++;
      reply.header('www-authenticate', challenge);
      return sendError(reply, 401, 'invalid_token', 'A valid access token is required');
    }
    const bound = claims.cnf?.jkt;
    if (scheme === 'Bearer' && (bound !== undefined || dpop.mode === 'required')) {
      // A bound token is worth nothing without its key: as a bearer token it is refused outright.
      stats.apiUnauthorized++;
      return sendDpopUnauthorized(reply, dpop, 'invalid_token', bound ? 'This access token is DPoP-bound: send it with a proof' : 'DPoP is required');
    }
    if (scheme === 'DPoP') {
      if (bound === undefined) {
        stats.apiUnauthorized++;
        return sendDpopUnauthorized(reply, dpop, 'invalid_token', 'This access token is not DPoP-bound');
      }
      const result = await dpop.verifier.verify(request.headers.dpop, { method: request.method, url: requestUrl(request), accessToken: match![2]! });
      if (!result.ok || result.jkt !== bound) {
        stats.apiUnauthorized++;
        return result.ok
          ? sendDpopUnauthorized(reply, dpop, 'invalid_dpop_proof', 'The DPoP proof is signed with another key than the token is bound to')
          : sendDpopUnauthorized(reply, dpop, result.error, result.message);
      }
    }
    stats.apiOk++;
    request.claims = claims;
  });

  if (settings.renewHeader) {
    const header = settings.renewHeader;
    // Sliding renewal: once half of the token's life is gone, the response carries a fresh one.
    app.addHook('onSend', async (request, reply, payload) => {
      const claims = request.claims;
      const user = claims && users.find(claims.sub);
      if (user && claims.exp - Date.now() / 1000 - settings.clockOffsetSeconds < accessTokens.ttl / 2) {
        // Bound to the same key as the token it renews: renewal must not turn a DPoP token into a bearer one.
        reply.header(header, await accessTokens.issue(user, claims.cnf?.jkt ?? null));
      }
      return payload;
    });
  }

  app.get('/api/me', async (request) => {
    const { sub, name, role, exp, iat } = request.claims!;
    return { sub, name, role, exp, iat };
  });

  app.get('/api/time', async () => ({ now: new Date().toISOString() }));

  const echo = async (request: FastifyRequest) => ({ sub: request.claims!.sub, body: request.body ?? null });
  app.post('/api/echo', echo);
  app.put('/api/echo', echo);

  // Any content type, byte for byte: what a replayed request must reproduce.
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    raw.post('/api/echo-raw', async (request) => {
      const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
      return {
        sub: request.claims!.sub,
        method: request.method,
        contentType: request.headers['content-type'] ?? null,
        length: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
      };
    });
  });

  app.get('/api/headers', async (request) => {
    // The proof names the token (ath), so it stays out of what the page sees, like the token.
    const { authorization: _omitted, dpop: _proof, ...headers } = request.headers;
    return { ...headers, authorized: true, sub: request.claims!.sub };
  });

  // A same-origin API response that redirects elsewhere: the token must not follow.
  app.get('/api/redirect', async (request, reply) => {
    const to = (request.query as { to?: unknown }).to;
    if (typeof to !== 'string' || !/^https?:\/\//.test(to)) return sendError(reply, 400, 'bad_request', 'to must be an absolute http(s) URL');
    return reply.redirect(to, 302);
  });

  // Sign out everywhere: revokes every refresh family of the caller.
  app.post('/api/sessions/revoke-all', async (request) => ({
    revoked: await refreshTokens.revokeUser(request.claims!.sub),
  }));
}
