// An API that trusts the OpenID provider itself (token-handler mode with
// `tokens: 'provider'`): the worker attaches the provider's access token, and
// the route verifies it as any resource server would, with jose against the
// provider's JWKS, its issuer and this API's audience. `requireAccessToken`
// is for the broker's own tokens; this is what an adopter uses instead.
import type { FastifyInstance } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface ProviderApiOptions {
  issuer: string;
  jwksUri: string;
  audience: string;
  /** Token ids the API refuses (401) though they verify: tests stand in for a token the provider no longer honours. */
  refusedJti?: Set<string>;
}

export async function providerApiRoutes(app: FastifyInstance, options: ProviderApiOptions): Promise<void> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri));
  app.get('/api/provider/me', async (request, reply) => {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(request.headers.authorization ?? '');
    let claims: JWTPayload;
    try {
      if (!match) throw new Error('no bearer token');
      ({ payload: claims } = await jwtVerify(match[1]!, jwks, { issuer: options.issuer, audience: options.audience }));
      if (claims.jti && options.refusedJti?.has(claims.jti)) throw new Error('refused');
    } catch {
      return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: 'invalid_token', message: 'A valid access token of the provider is required' });
    }
    const { sub, aud, jti, exp } = claims;
    return { sub, aud, jti, exp };
  });
}
