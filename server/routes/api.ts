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
    // Sliding renewal: once half of the token's life is gone, the response carries a fresh one,
    // but only while the sign-in session it belongs to is live: a token kept after sign-out,
    // "sign out everywhere" or the session's end must not renew itself for ever.
    app.addHook('onSend', async (request, reply, payload) => {
      const claims = request.claims;
      const user = claims?.sid !== undefined ? users.find(claims.sub) : undefined;
      if (user && claims!.exp - Date.now() / 1000 - settings.clockOffsetSeconds < accessTokens.ttl / 2) {
        const notAfter = await refreshTokens.liveUntil(claims!.sid!);
        // Bound to the same key as the token it renews: renewal must not turn a DPoP token into a bearer one.
        if (notAfter !== null) reply.header(header, await accessTokens.issue(user, { jkt: claims!.cnf?.jkt ?? null, sid: claims!.sid!, notAfter }));
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
    // The proof names the token (ath), so it stays out of what the page sees, like the token;
    // cookies too: page script must never read an HttpOnly cookie back through an API.
    const { authorization: _omitted, dpop: _proof, cookie: _cookies, ...headers } = request.headers;
    return { ...headers, authorized: true, sub: request.claims!.sub };
  });

  // An API response that redirects (the tests check the token does not follow).
  // Same-origin paths only: an open redirect to anywhere would serve phishing.
  app.get('/api/redirect', async (request, reply) => {
    const to = (request.query as { to?: unknown }).to;
    if (typeof to !== 'string' || !/^\/(?![/\\])/.test(to) || to.includes('\\')) {
      return sendError(reply, 400, 'bad_request', 'to must be a path on this origin');
    }
    return reply.redirect(to, 302);
  });

  // Sign out everywhere: revokes every refresh family of the caller.
  app.post('/api/sessions/revoke-all', async (request) => ({
    revoked: await refreshTokens.revokeUser(request.claims!.sub),
  }));
}
