// Assembles the reference server: settings in, a Fastify instance out.
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TokenBrokerConfig } from '../sw/config';
import { AccessTokens } from './access-tokens';
import { closeConnectionsWhenClosing } from './drain';
import { DpopVerifier } from './dpop';
import type { DpopContext } from './dpop-http';
import { DpopNonces } from './dpop-nonce';
import { codeForStatus, sendError } from './errors';
import { limitJsonDepth } from './json-depth';
import { KeyRing } from './keys';
import { demoUserDirectory } from './passwords';
import { RefreshTokens } from './refresh-tokens';
import { apiRoutes } from './routes/api';
import { authRoutes } from './routes/auth';
import { probeRoutes } from './routes/probes';
import { checkSettings, DEFAULT_SETTINGS, type Settings } from './settings';
import { newStats, type Stats } from './stats';
import { memoryJtiStore, type JtiStore } from './store/jti';
import { openStore } from './store/open-store';
import type { RefreshStore } from './store/types';
import { startSweeper } from './sweeper';
import { configuredSourceMap, configuredWorkerScript } from './worker-script';

export interface BrokerServer {
  app: FastifyInstance;
  settings: Settings;
  stats: Stats;
  keys: KeyRing;
  store: RefreshStore;
  refreshTokens: RefreshTokens;
  accessTokens: AccessTokens;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/** What tests may put in place of the real thing. */
export interface ServerParts {
  /** Used instead of opening the store the settings name; closed with the server all the same. */
  store?: RefreshStore;
  /** The DPoP replay cache; with a given `store` and none given, one in memory. */
  jti?: JtiStore;
  /** Where the logs go instead of stdout. */
  logStream?: { write(line: string): void };
  /** More configured worker scripts, by path: tests and benchmarks that need two configurations on one origin. */
  workerScripts?: Record<string, { build: 'sw.js' | 'sw-dpop.js'; config: TokenBrokerConfig }>;
}

/**
 * Serves the standalone scripts found in the public directory with the
 * server's configuration above them, so no page can choose it.
 */
function workerScriptRoutes(app: FastifyInstance, settings: Settings, extra: NonNullable<ServerParts['workerScripts']>): void {
  const scripts: Record<string, { build: string; config: TokenBrokerConfig }> = {
    '/sw.js': { build: 'sw.js', config: settings.workerConfig },
    '/sw-dpop.js': { build: 'sw-dpop.js', config: settings.workerConfig },
    ...extra,
  };
  for (const [path, { build, config }] of Object.entries(scripts)) {
    const file = join(resolve(settings.publicDir), build);
    if (!existsSync(file)) continue;
    // Read on every request, as a static file would be: a deployment replaces the file in place.
    // The worker script must be revalidated on every load so updates reach users.
    app.get(path, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(configuredWorkerScript(await readFile(file, 'utf8'), config)),
    );
    app.get(`${path}.map`, async (_request, reply) => reply.type('application/json').send(configuredSourceMap(await readFile(`${file}.map`, 'utf8'))));
  }
}

export async function buildServer(settings: Settings, parts: ServerParts = {}): Promise<BrokerServer> {
  checkSettings(settings);
  const redact = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];
  const app = Fastify({
    logger: settings.logLevel === 'silent' ? false : { level: settings.logLevel, redact, ...(parts.logStream && { stream: parts.logStream }) },
    bodyLimit: 64 * 1024,
    trustProxy: false,
    // Credentials are taken as sent: no ['alice'] -> 'alice' coercion, no silent dropping of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  const stats = newStats();
  const keys = await KeyRing.create(settings.accessTokenTtl, settings.signingKey);
  const accessTokens = new AccessTokens(keys, settings.accessTokenTtl, settings.clockOffsetSeconds);
  const opened = parts.store
    ? { store: parts.store, jti: parts.jti ?? memoryJtiStore() }
    : await openStore(settings, (err) => app.log.warn({ err }, 'refresh store connection'));
  const { store, jti } = opened;
  const refreshSecret = settings.refreshSecret ? Buffer.from(settings.refreshSecret, 'base64url') : undefined;
  const refreshTokens = new RefreshTokens(
    store,
    {
      idleMs: settings.refreshTokenTtl * 1000,
      absoluteMs: settings.refreshAbsoluteTtl * 1000,
      graceMs: settings.rotationGraceSeconds * 1000,
    },
    refreshSecret,
  );
  const dpop: DpopContext = {
    mode: settings.dpop,
    announceNonce: settings.dpopNonce,
    verifier: new DpopVerifier(jti, {
      // Instances sharing the refresh secret issue and accept the same nonces.
      nonces: DpopNonces.fromSecret(refreshSecret, settings.dpopNonceSeconds * 1000),
      requireNonce: settings.dpopNonce,
      clockOffsetSeconds: settings.clockOffsetSeconds,
    }),
  };
  const users = await demoUserDirectory();

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
    // A simulated clock error shows in Date too, as a wrong server clock's would: the worker signs DPoP proofs by it.
    if (settings.clockOffsetSeconds) reply.header('date', new Date(Date.now() + settings.clockOffsetSeconds * 1000).toUTCString());
    if (settings.contentSecurityPolicy) reply.header('content-security-policy', settings.contentSecurityPolicy);
  });
  closeConnectionsWhenClosing(app);
  limitJsonDepth(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error(error);
    return sendError(reply, status, codeForStatus(status), status >= 500 ? 'Internal error' : error.message);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', `No route for ${request.method} ${request.url}`));

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: false,
    // Several instances share one count when they share a Redis.
    ...(opened.redis && { redis: opened.redis, nameSpace: `${settings.redisPrefix}rate-limit:` }),
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, error: 'rate_limited', message: `Too many requests; retry in ${ctx.after}` }),
  });

  const deps = { settings, users, accessTokens, refreshTokens, stats, dpop };
  await app.register(async (scope) => authRoutes(scope, deps));
  await app.register(async (scope) => apiRoutes(scope, deps));
  await app.register(probeRoutes);
  app.get('/.well-known/jwks.json', async () => keys.jwks());

  workerScriptRoutes(app, settings, parts.workerScripts ?? {});
  await app.register(fastifyStatic, {
    root: resolve(settings.publicDir),
    // The worker script must be revalidated on every load so updates reach users.
    setHeaders: (res, path) => {
      if (path.endsWith('sw.js')) res.header('cache-control', 'no-cache');
    },
  });

  const sweepers =
    settings.sweepIntervalSeconds > 0
      ? [
          startSweeper(store, settings.sweepIntervalSeconds * 1000, (err) => app.log.warn({ err }, 'sweep of refresh families failed')),
          startSweeper(jti, settings.sweepIntervalSeconds * 1000, (err) => app.log.warn({ err }, 'sweep of DPoP proof ids failed')),
        ]
      : [];
  // Fastify runs this after the server has stopped and answered the requests in flight.
  app.addHook('onClose', async () => {
    for (const stop of sweepers) stop();
    await jti.close();
    await store.close();
  });
  return { app, settings, stats, keys, store, refreshTokens, accessTokens };
}

export interface StartedServer extends BrokerServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a server; without overrides it is a test server: in-memory store, free loopback port, silent. */
export async function startServer(overrides: Partial<Settings> = {}, parts: ServerParts = {}): Promise<StartedServer> {
  const settings: Settings = { ...DEFAULT_SETTINGS, port: 0, host: '127.0.0.1', databasePath: ':memory:', logLevel: 'silent', ...overrides };
  const server = await buildServer(settings, parts);
  await server.app.listen({ port: settings.port, host: settings.host });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  return { ...server, url: `http://${host}:${port}`, port, close: () => server.app.close() };
}
