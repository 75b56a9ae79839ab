// The token broker as a Fastify plugin: the token endpoints, the JWKS, and a
// `requireAccessToken()` guard for API routes. A thin layer over the core:
// it maps requests and responses and does nothing else.
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessClaims } from '../tokens/access-tokens';
import { codeForStatus } from '../core/errors';
import { errorResponse, type BrokerHttpRequest, type BrokerHttpResponse, type PostEndpoints } from '../core/http';
import { jsonDepth, JsonDepthError, MAX_JSON_DEPTH } from '../core/json-depth';
import type { RedirectSignIn } from '../core/redirect-sign-in';
import type { TokenBrokerServer } from '../core/token-broker';
import { checkRequirement, type StepUpRequirement } from '../step-up/requirement';

// Kept beside the request rather than on it: no augmentation of Fastify's types to publish.
const claimsOf = new WeakMap<FastifyRequest, AccessClaims>();

/** The verified claims `requireAccessToken()` leaves for the route. */
export function tokenClaims(request: FastifyRequest): AccessClaims {
  const claims = claimsOf.get(request);
  if (!claims) throw new Error('tokenClaims(): this route has no requireAccessToken() guard');
  return claims;
}

export interface TokenBrokerPluginOptions {
  broker: TokenBrokerServer;
  /** Where the JWKS is served; null serves none. */
  jwksPath?: string | null;
  /** A redirect sign-in's routes (`createOidcTokenHandler` from token-broker/server/oidc). */
  signIn?: RedirectSignIn;
  /** The passkey endpoints (`createPasskeys` from token-broker/server/passkeys), mounted with the token endpoints' body rules. */
  passkeys?: PostEndpoints;
}

export function toBrokerRequest(request: FastifyRequest): BrokerHttpRequest {
  return {
    method: request.method,
    url: request.raw.url ?? request.url,
    origin: `${request.protocol}://${request.host}`,
    headers: request.headers,
    body: request.body,
    ip: request.ip,
  };
}

export function sendBrokerResponse(reply: FastifyReply, response: BrokerHttpResponse): FastifyReply {
  reply.code(response.status).headers(response.headers);
  if (response.cookies.length > 0) reply.header('set-cookie', response.cookies);
  return response.body === undefined ? reply.send() : reply.send(response.body);
}

/** A preHandler for API routes: 401 (with the right challenge) without a valid token, else `tokenClaims(request)`. */
/** With `{ maxAge, acrValues }` the route also needs a recent or strong enough sign-in (RFC 9470 step-up). */
export function requireAccessToken(broker: TokenBrokerServer, stepUp?: StepUpRequirement): preHandlerAsyncHookHandler {
  const requirement = stepUp && checkRequirement('requireAccessToken', stepUp);
  return async function (request, reply) {
    const result = await broker.authenticate(toBrokerRequest(request), requirement);
    if (!result.ok) return sendBrokerResponse(reply, result.response);
    reply.headers(result.headers);
    claimsOf.set(request, result.claims);
  };
}

/**
 * JSON with a bounded depth, for `app` and what it registers after this call.
 * The plugin puts it on its own endpoints; call it on your app to give your
 * routes the same 400 instead of a stack overflow.
 */
export function limitJsonDepth(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (err, value) => {
      if (err) return done(err, undefined);
      if (jsonDepth(value) > MAX_JSON_DEPTH) return done(new JsonDepthError(), undefined);
      done(null, value);
    });
  });
}

const plugin: FastifyPluginAsync<TokenBrokerPluginOptions> = async (app, { broker, jwksPath = '/.well-known/jwks.json', signIn, passkeys }) => {
  if (signIn) {
    app.get(signIn.paths.start, async (request, reply) => sendBrokerResponse(reply, await signIn.start(toBrokerRequest(request))));
    app.get(signIn.paths.callback, async (request, reply) => sendBrokerResponse(reply, await signIn.callback(toBrokerRequest(request))));
  }
  // The endpoints in a context of their own, so their body parser is not imposed on the app.
  await app.register(async (endpoints) => {
    limitJsonDepth(endpoints);
    // Bodies Fastify refuses (malformed, too large) get the core's JSON errors too.
    endpoints.setErrorHandler((error: FastifyError, _request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) throw error;
      return sendBrokerResponse(reply, errorResponse(status, codeForStatus(status), error.message));
    });
    for (const [path, handle] of [
      [broker.paths.login, broker.login],
      [broker.paths.refresh, broker.refresh],
      [broker.paths.logout, broker.logout],
    ] as const) {
      endpoints.post(path, { bodyLimit: 16 * 1024 }, async (request, reply) => sendBrokerResponse(reply, await handle(toBrokerRequest(request))));
    }
    // A registration carries the browser's response and an assertion: room for both.
    for (const path of passkeys?.paths ?? []) {
      endpoints.post(path, { bodyLimit: 40 * 1024 }, async (request, reply) => sendBrokerResponse(reply, await passkeys!.handle(toBrokerRequest(request))));
    }
    // The worker's start of a redirect sign-in, with its DPoP proof (the navigation is the GET above).
    if (signIn) endpoints.post(signIn.paths.start, { bodyLimit: 16 * 1024 }, async (request, reply) => sendBrokerResponse(reply, await signIn.start(toBrokerRequest(request))));
  });
  if (jwksPath) app.get(jwksPath, async () => broker.jwks());
};

/** `app.register(tokenBroker, { broker })`: not encapsulated, so `requireAccessToken` works on the app's own routes. */
export const tokenBroker = fp(plugin, { name: 'token-broker', fastify: '5.x' });
