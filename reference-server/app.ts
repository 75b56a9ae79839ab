// Assembles the reference server: settings in, a Fastify instance out.
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, type TokenBrokerConfig } from '../sw/config';
import { limitJsonDepth, sendBrokerResponse, tokenBroker } from '../server/entries/fastify';
import { createPasskeys, memoryPasskeyStore } from '../server/entries/passkeys';
import {
  codeForStatus,
  configuredSourceMap,
  configuredWorkerScript,
  createTokenBroker,
  errorResponse,
  OptionError,
  memoryJtiStore,
  memoryRateLimits,
  type BrokerEvent,
  type JtiStore,
  type RefreshStore,
  type SecurityEventOptions,
  type TokenBrokerServer,
} from '../server/entries/index';
import { createOidcTokenHandler, type OidcOptions } from '../server/entries/oidc';
import { closeConnectionsWhenClosing } from './drain';
import { openStore } from './open-store';
import { demoUserDirectory } from './passwords';
import { apiRoutes } from './routes/api';
import { providerApiRoutes, type ProviderApiOptions } from './routes/provider-api';
import { injectFaults, type Fault } from './faults';
import { probeRoutes } from './routes/probes';
import { checkSettings, DEFAULT_SETTINGS, settingOfOption, type Settings } from './settings';
import { newStats, type Stats } from './stats';
import { startSweeper } from './sweeper';

export interface BrokerServer {
  app: FastifyInstance;
  settings: Settings;
  stats: Stats;
  broker: TokenBrokerServer;
  keys: TokenBrokerServer['keys'];
  store: RefreshStore;
  refreshTokens: TokenBrokerServer['refreshTokens'];
  accessTokens: TokenBrokerServer['accessTokens'];
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const STAT_OF_EVENT: Partial<Record<BrokerEvent, keyof Stats>> = {
  login: 'login',
  refresh: 'refresh',
  refresh_rejected: 'refreshRejected',
  no_session: 'noSession',
  logout_revoked: 'logoutRevoked',
  account_changed: 'accountChanged',
  key_replaced: 'keyReplaced',
  password_check: 'passwordChecks',
  api_ok: 'apiOk',
  api_unauthorized: 'apiUnauthorized',
  backing_unavailable: 'backingUnavailable',
};

/** What tests may put in place of the real thing. */
export interface ServerParts {
  /** Used instead of opening the store the settings name; closed with the server all the same. */
  store?: RefreshStore;
  /** The DPoP replay cache; with a given `store` and none given, one in memory. */
  jti?: JtiStore;
  /** Where the logs go instead of stdout. */
  logStream?: { write(line: string): void };
  /**
   * The server's clock (ms since the epoch) instead of `Date.now()` shifted by the
   * `clockOffsetSeconds` setting: the soak steps it while the server runs.
   */
  now?: () => number;
  /** The broker's security events and policy (tests watch them and act on them). */
  securityEvents?: SecurityEventOptions;
  /** More configured worker scripts, by path: tests and benchmarks that need two configurations on one origin. */
  workerScripts?: Record<string, { build: 'sw.js' | 'sw-dpop.js' | 'sw.dev.js' | 'sw-dpop.dev.js' | 'sw-remove.js'; config: TokenBrokerConfig }>;
  /**
   * How a configuration is put into a served script; `configuredWorkerScript`
   * unless given. Tests that must see the worker itself refuse a configuration
   * pass one that skips the server's check.
   */
  configureWorker?: (built: string, config: TokenBrokerConfig) => string;
  /** Token-handler mode: redirect sign-in at an OpenID provider (the tests' own, test-support/oidc-provider). */
  oidc?: OidcOptions;
  /** An API that verifies the provider's own access tokens (`oidc.tokens: 'provider'`), at /api/provider/me. */
  providerApi?: ProviderApiOptions;
  /** Answers given in place of routes (faults.ts): the engine scenarios' fault injection; the array may change while the server runs. */
  faults?: Fault[];
}

/**
 * Serves the standalone scripts found in the public directory with the
 * server's configuration above them, so no page can choose it.
 */
function workerScriptRoutes(app: FastifyInstance, settings: Settings, parts: ServerParts): void {
  const configure = parts.configureWorker ?? configuredWorkerScript;
  const scripts: Record<string, { build: string; config: TokenBrokerConfig }> = {
    '/sw.js': { build: 'sw.js', config: settings.workerConfig },
    '/sw-dpop.js': { build: 'sw-dpop.js', config: settings.workerConfig },
    // The development builds, with full messages: register these while developing.
    '/sw.dev.js': { build: 'sw.dev.js', config: settings.workerConfig },
    '/sw-dpop.dev.js': { build: 'sw-dpop.dev.js', config: settings.workerConfig },
    ...parts.workerScripts,
  };
  for (const [path, { build, config }] of Object.entries(scripts)) {
    const file = join(resolve(settings.publicDir), build);
    if (!existsSync(file)) continue;
    try {
      configure(readFileSync(file, 'utf8'), config);
    } catch (err) {
      // The bearer build under a configuration with dpop: true, say: answered with the reason, never
      // as the bare file from the public directory (a worker without its configuration).
      if (!(err instanceof ConfigError)) throw err;
      app.log.warn({ path, err: err.message }, 'worker script not served: its configuration does not fit this build');
      const refusal = errorResponse(404, 'not_found', `${path} is not served with this configuration: ${err.message}`);
      app.get(path, (_request, reply) => sendBrokerResponse(reply, refusal));
      continue;
    }
    // Read on every request, as a static file would be: a deployment replaces the file in place.
    // The worker script must be revalidated on every load so updates reach users.
    app.get(path, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(configure(await readFile(file, 'utf8'), config)),
    );
    app.get(`${path}.map`, async (_request, reply) => reply.type('application/json').send(configuredSourceMap(await readFile(`${file}.map`, 'utf8'))));
  }
}

export async function buildServer(settings: Settings, parts: ServerParts = {}): Promise<BrokerServer> {
  checkSettings(settings);
  const redact = ['req.headers.authorization', 'req.headers.cookie', 'req.headers.dpop', 'res.headers["set-cookie"]'];
  const app = Fastify({
    logger: settings.logLevel === 'silent' ? false : { level: settings.logLevel, redact, ...(parts.logStream && { stream: parts.logStream }) },
    bodyLimit: 64 * 1024,
    trustProxy: false,
  });
  const stats = newStats();
  const opened = parts.store
    ? { store: parts.store, jti: parts.jti ?? memoryJtiStore(), rateLimits: memoryRateLimits() }
    : await openStore(settings, (err) => app.log.warn({ err }, 'refresh store connection'));
  const users = await demoUserDirectory();
  const offsetMs = settings.clockOffsetSeconds * 1000;
  const now = parts.now ?? (() => Date.now() + offsetMs);
  const broker = await createTokenBroker({
    verifyCredentials: async ({ username, password }) => {
      if (typeof username !== 'string' || typeof password !== 'string' || username.length > 128 || password.length > 1024) return null;
      const user = await users.authenticate(username, password);
      return user && { sub: user.id, claims: { name: user.name, role: user.role } };
    },
    store: opened.store,
    jti: opened.jti,
    rateLimits: opened.rateLimits,
    signingKey: settings.signingKey || undefined,
    refreshSecret: settings.refreshSecret || undefined,
    accessTokenTtl: settings.accessTokenTtl,
    refreshIdleTtl: settings.refreshTokenTtl,
    refreshAbsoluteTtl: settings.refreshAbsoluteTtl,
    rotationGraceSeconds: settings.rotationGraceSeconds,
    cookieSecure: settings.cookieSecure,
    dpop: settings.dpop,
    dpopNonce: settings.dpopNonce,
    dpopNonceSeconds: settings.dpopNonceSeconds,
    renewHeader: settings.renewHeader || null,
    limits: { perIp: settings.authRateLimit, perAccount: settings.loginAccountRateLimit },
    now,
    ...(parts.securityEvents && { securityEvents: parts.securityEvents }),
    onEvent: (event, detail) => {
      const stat = STAT_OF_EVENT[event];
      if (stat) stats[stat]++;
      if (event === 'refresh_rejected') app.log.info({ event, ...detail }, 'refresh refused');
      if (event === 'login_failed') app.log.info({ event }, 'login refused');
      if (event === 'backing_unavailable') app.log.warn({ event, ...detail }, 'answered 503: a backing failed');
      if (event === 'account_changed' || event === 'key_replaced') app.log.warn({ event, ...detail }, 'the worker ended a session');
    },
  }).catch(async (err: unknown) => {
    await Promise.all([opened.store.close(), opened.jti.close()]);
    // The operator set an environment variable, not an option: name it.
    throw err instanceof OptionError ? settingOfOption(err) : err;
  });

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (settings.contentSecurityPolicy) reply.header('content-security-policy', settings.contentSecurityPolicy);
    // A simulated clock error shows in Date too, as a wrong server clock's would: the worker signs DPoP proofs by it.
    if (parts.now || offsetMs) reply.header('date', new Date(now()).toUTCString());
  });
  if (parts.faults) injectFaults(app, parts.faults);
  closeConnectionsWhenClosing(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error(error);
    return sendBrokerResponse(reply, errorResponse(status, codeForStatus(status), status >= 500 ? 'Internal error' : error.message));
  });
  app.setNotFoundHandler((request, reply) => sendBrokerResponse(reply, errorResponse(404, 'not_found', `No route for ${request.method} ${request.url}`)));

  limitJsonDepth(app);
  const signIn = parts.oidc && createOidcTokenHandler(broker, { cookieSecure: settings.cookieSecure, now, rateLimits: opened.rateLimits, limits: { perIp: settings.authRateLimit }, ...parts.oidc });
  if (parts.providerApi) {
    const providerApi = parts.providerApi;
    await app.register(async (scope) => providerApiRoutes(scope, providerApi));
  }
  // Passkey step-up for the demo on http://localhost (WebAuthn refuses an IP address as the RP id), kept in memory.
  const passkeys = createPasskeys(broker, {
    store: memoryPasskeyStore(),
    rpName: 'token-broker demo',
    rpID: 'localhost',
    origins: (origin) => new URL(origin).hostname === 'localhost',
    now,
  });
  await app.register(tokenBroker, { broker, passkeys, ...(signIn && { signIn }) });
  await app.register(async (scope) => apiRoutes(scope, broker));
  await app.register(probeRoutes);

  workerScriptRoutes(app, settings, parts);
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
          startSweeper(opened.store, settings.sweepIntervalSeconds * 1000, (err) => app.log.warn({ err }, 'sweep of refresh families failed'), now),
          startSweeper(opened.jti, settings.sweepIntervalSeconds * 1000, (err) => app.log.warn({ err }, 'sweep of DPoP proof ids failed'), now),
        ]
      : [];
  // Fastify runs this after the server has stopped and answered the requests in flight.
  app.addHook('onClose', async () => {
    for (const stop of sweepers) stop();
    await broker.close();
  });
  const { keys, refreshTokens, accessTokens } = broker;
  return { app, settings, stats, broker, keys, store: opened.store, refreshTokens, accessTokens };
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
