// The token broker for Express 5: a router with the token endpoints and the
// JWKS, and a `requireAccessToken()` middleware for API routes. A thin layer
// over the core: it maps requests and responses and does nothing else.
// Express's Request and Response under names of their own: the fetch globals have theirs.
import express, { type ErrorRequestHandler, type Request as ExpressRequest, type RequestHandler, type Response as ExpressResponse, type Router } from 'express';
import type { AccessClaims } from '../tokens/access-tokens';
import { codeForStatus } from '../core/errors';
import type { BrokerHttpRequest, BrokerHttpResponse, PostEndpoints } from '../core/http';
import { jsonDepth, JsonDepthError, MAX_JSON_DEPTH } from '../core/json-depth';
import type { RedirectSignIn } from '../core/redirect-sign-in';
import type { TokenBrokerServer } from '../core/token-broker';
import { checkRequirement, type StepUpRequirement } from '../step-up/requirement';

export interface TokenBrokerRouterOptions {
  /** Where the JWKS is served; null serves none. */
  jwksPath?: string | null;
  /** A redirect sign-in's routes (`createOidcTokenHandler` from token-broker/server/oidc). */
  signIn?: RedirectSignIn;
  /** The passkey endpoints (`createPasskeys` from token-broker/server/passkeys), mounted with the token endpoints' body rules. */
  passkeys?: PostEndpoints;
}

/** The verified claims `requireAccessToken()` leaves for the route. */
export function tokenClaims(res: ExpressResponse): AccessClaims {
  return res.locals.tokenClaims as AccessClaims;
}

export function toBrokerRequest(req: ExpressRequest): BrokerHttpRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    // Express's `trust proxy` setting decides, as for the rest of the app, whether X-Forwarded-* count.
    origin: `${req.protocol}://${req.get('host') ?? ''}`,
    headers: req.headers,
    body: req.body as unknown,
    ip: req.ip ?? req.socket.remoteAddress ?? '',
  };
}

export function sendBrokerResponse(res: ExpressResponse, response: BrokerHttpResponse): void {
  res.status(response.status).set(response.headers);
  if (response.cookies.length > 0) res.append('set-cookie', response.cookies);
  if (response.body === undefined) res.end();
  else res.json(response.body);
}

/** Middleware for API routes: 401 (with the right challenge) without a valid token, else `tokenClaims(res)`. */
/** With `{ maxAge, acrValues }` the route also needs a recent or strong enough sign-in (RFC 9470 step-up). */
export function requireAccessToken(broker: TokenBrokerServer, stepUp?: StepUpRequirement): RequestHandler {
  const requirement = stepUp && checkRequirement('requireAccessToken', stepUp);
  return (req, res, next) => {
    broker.authenticate(toBrokerRequest(req), requirement).then((result) => {
      if (!result.ok) return sendBrokerResponse(res, result.response);
      res.set(result.headers);
      res.locals.tokenClaims = result.claims;
      next();
    }, next);
  };
}

const boundedJson = express.json({ limit: '16kb' });
// A registration carries the browser's response and an assertion: room for both.
const passkeyJson = express.json({ limit: '40kb' });

/** Malformed, deep or oversized bodies: the core's JSON errors, never Express's HTML page. */
const jsonErrors: ErrorRequestHandler = (err: { status?: number; statusCode?: number; message?: string }, _req, res, next) => {
  const status = err.status ?? err.statusCode ?? 500;
  if (status >= 500) return next(err);
  res.status(status).set('cache-control', 'no-store').json({ error: codeForStatus(status), message: err.message ?? 'Bad request' });
};

function depthCheck(req: ExpressRequest, _res: ExpressResponse, next: (err?: unknown) => void): void {
  next(jsonDepth(req.body) > MAX_JSON_DEPTH ? new JsonDepthError() : undefined);
}

export function tokenBrokerRouter(broker: TokenBrokerServer, { jwksPath = '/.well-known/jwks.json', signIn, passkeys }: TokenBrokerRouterOptions = {}): Router {
  const router = express.Router();
  if (signIn) {
    for (const [path, handle] of [
      [signIn.paths.start, signIn.start],
      [signIn.paths.callback, signIn.callback],
    ] as const) {
      router.get(path, (req, res, next) => {
        handle(toBrokerRequest(req)).then((response) => sendBrokerResponse(res, response), next);
      });
    }
    // The worker's start of a redirect sign-in, with its DPoP proof.
    router.post(signIn.paths.start, boundedJson, depthCheck, (req, res, next) => {
      signIn.start(toBrokerRequest(req)).then((response) => sendBrokerResponse(res, response), next);
    });
  }
  for (const [path, handle] of [
    [broker.paths.login, broker.login],
    [broker.paths.refresh, broker.refresh],
    [broker.paths.logout, broker.logout],
  ] as const) {
    router.post(path, boundedJson, depthCheck, (req, res, next) => {
      handle(toBrokerRequest(req)).then((response) => sendBrokerResponse(res, response), next);
    });
  }
  for (const path of passkeys?.paths ?? []) {
    router.post(path, passkeyJson, depthCheck, (req, res, next) => {
      passkeys!.handle(toBrokerRequest(req)).then((response) => sendBrokerResponse(res, response), next);
    });
  }
  if (jwksPath) router.get(jwksPath, (_req, res) => void res.json(broker.jwks()));
  router.use(jsonErrors);
  return router;
}
