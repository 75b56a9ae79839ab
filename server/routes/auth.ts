// The token endpoints of the backend contract: login, refresh, logout.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cookieCount } from '../cookie-tossing';
import { csrfViolation } from '../csrf';
import { announceNonce, tokenRequestKey } from '../dpop-http';
import { sendError } from '../errors';
import type { Settings } from '../settings';
import type { RouteDeps } from './deps';

/** `__Secure-` needs the Secure attribute; without it (Safari on http://localhost) the plain name is used. */
export function refreshCookieName(settings: Settings): string {
  return settings.cookieSecure ? '__Secure-broker_rt' : 'broker_rt';
}

const loginSchema = {
  body: {
    type: 'object',
    required: ['username', 'password'],
    additionalProperties: false,
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 128 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
} as const;

export async function authRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { settings, users, accessTokens, refreshTokens, stats, dpop } = deps;
  const cookieName = refreshCookieName(settings);
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: settings.cookieSecure,
    path: '/auth',
  };
  const rateLimit = { max: settings.authRateLimit, timeWindow: '1 minute' };
  // Per IP alone lets a botnet guess one account's password from many
  // addresses, so login attempts are also counted per username. An attempt is
  // reserved (an atomic increment, in memory or in Redis) before its password
  // is checked, so however many arrive at once, no more than the limit are
  // ever checked. Every attempt counts, a right one too: counting only
  // failures would mean checking first, which is the race. (Wrong guesses can
  // lock the account for a minute, the usual price of such a limit.)
  const accountAttempts = app.createRateLimit({
    max: settings.loginAccountRateLimit,
    timeWindow: '1 minute',
    keyGenerator: (request) => `login-account:${(request.body as { username: string }).username}`,
  });

  // The router decodes paths, so `/%61uth/login` would reach the login route:
  // only the exact spelling of a token endpoint is one.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.raw.url!.split('?', 1)[0];
    if (path !== request.routeOptions.url) return sendError(reply, 404, 'not_found', `No route for ${request.method} ${path}`);
  });

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const violation = csrfViolation(request);
    if (violation) return sendError(reply, 403, 'csrf', `Refused: ${violation}`);
    // Before anything reads the cookie: nothing is rotated, revoked or cleared.
    if (cookieCount(request.headers.cookie, cookieName) > 1) {
      return sendError(reply, 400, 'duplicate_cookie', `More than one ${cookieName} cookie: one was set by another site (cookie tossing); nothing was changed`);
    }
    announceNonce(reply, dpop);
  });

  /** `jkt`: the DPoP key the login is bound to; its access tokens are then DPoP tokens (cnf.jkt). */
  async function grant(reply: FastifyReply, userId: string, family: { token: string; familyId: string }, jkt: string | null) {
    const user = users.find(userId);
    if (!user) return sendError(reply, 401, 'invalid_grant', 'The account no longer exists');
    reply.setCookie(cookieName, family.token, { ...cookieOptions, maxAge: settings.refreshTokenTtl });
    return reply.header('cache-control', 'no-store').send({
      access_token: await accessTokens.issue(user, { jkt, sid: family.familyId }),
      token_type: jkt ? 'DPoP' : 'Bearer',
      expires_in: accessTokens.ttl,
    });
  }

  app.post('/auth/login', { schema: loginSchema, config: { rateLimit } }, async (request, reply) => {
    const { username, password } = request.body as { username: string; password: string };
    // Before the password hash: a bad proof costs the server nothing.
    const jkt = await tokenRequestKey(request, reply, dpop);
    if (jkt === undefined) return reply;
    const account = await accountAttempts(request);
    // isAllowed means an allow-listed key, which this limiter has none of.
    if (!account.isAllowed && account.isExceeded) {
      reply.header('retry-after', account.ttlInSeconds);
      return sendError(reply, 429, 'rate_limited', `Too many login attempts for this account; retry in ${account.ttlInSeconds} s`);
    }
    stats.passwordChecks++;
    const user = await users.authenticate(username, password);
    if (!user) return sendError(reply, 401, 'invalid_credentials', 'Unknown user or wrong password');
    stats.login++;
    return grant(reply, user.id, await refreshTokens.issue(user.id, Date.now(), jkt), jkt);
  });

  app.post('/auth/refresh', { config: { rateLimit } }, async (request, reply) => {
    const presented = request.cookies[cookieName];
    const jkt = await tokenRequestKey(request, reply, dpop);
    // A bad proof leaves the cookie alone: it may be a script without the key, not its owner.
    if (jkt === undefined) return reply;
    const outcome = presented ? await refreshTokens.rotate(presented, Date.now(), jkt) : ({ ok: false, reason: 'unknown' } as const);
    if (!outcome.ok && outcome.reason === 'wrong_key') {
      stats.refreshRejected++;
      request.log.info('refresh refused: no proof of the key the login is bound to');
      return sendError(reply, 400, 'invalid_dpop_proof', 'This refresh token is bound to a DPoP key: present a proof signed with it');
    }
    if (!outcome.ok) {
      stats.refreshRejected++;
      reply.clearCookie(cookieName, cookieOptions);
      request.log.info({ reason: outcome.reason }, 'refresh refused');
      return sendError(reply, 401, 'invalid_grant', `The refresh token is ${outcome.reason}; sign in again`);
    }
    stats.refresh++;
    // An unbound (bearer) login refreshed with a proof gets a token bound to that key; the family stays unbound.
    return grant(reply, outcome.userId, outcome, outcome.jkt ?? jkt);
  });

  app.post('/auth/logout', async (request, reply) => {
    const presented = request.cookies[cookieName];
    if (presented && (await refreshTokens.revoke(presented)) !== null) stats.logoutRevoked++;
    reply.clearCookie(cookieName, cookieOptions);
    return reply.header('cache-control', 'no-store').send({ ok: true });
  });
}
