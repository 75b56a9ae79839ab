// The package's types as an adopter's compiler sees them: the tarball from
// `npm pack` installed into a fresh project, samples that use every public API
// type-checked with `strict` on and `skipLibCheck` off under each module
// resolution (bundler, node16, nodenext; node10 for the main entry), and the
// tarball checked by @arethetypeswrong/cli and publint.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { installInto, packedTarball } from './support/packed';

let project: string;
let tarball: string;
const bin = (name: string) => resolve('node_modules/.bin', name);

const SAMPLES = {
  // The page: typed claims, every client export. A misspelt option must be an error, not `any`.
  'client.ts': `
import { registerTokenBroker, TokenBroker, TokenBrokerError, type ClientErrorCode, type Session, type SessionEvent } from 'token-broker/client';
import { registerTokenBroker as fromRoot } from 'token-broker';
import { listPasskeys, registerPasskey, removePasskey, stepUp, TokenBrokerError as PasskeyError, type PasskeyInfo } from 'token-broker/passkeys';

type Claims = { sub: string; name: string };
export async function start(): Promise<string | undefined> {
  const broker: TokenBroker<Claims> = await registerTokenBroker<Claims>({ scriptURL: '/sw.js', timeoutMs: 5_000, onForeignWorker: 'reject' });
  const session: Session<Claims> = await broker.login({ username: 'alice', password: 'wonderland' });
  const off = broker.onSessionChange((event: SessionEvent<Claims>) => void event.session.claims.name);
  off();
  await broker.status();
  await broker.refresh();
  await broker.logout();
  await broker.unregister({ signOut: false });
  await registerPasskey({ username: 'alice', password: 'x' });
  const listed: PasskeyInfo[] = await listPasskeys();
  await removePasskey(listed[0]!.id);
  const stepped: Session = await stepUp({ passkey: true });
  void [stepped.authenticated, PasskeyError === TokenBrokerError];
  // @ts-expect-error a misspelt option is caught
  await fromRoot({ scriptUrl: '/sw.js' });
  return session.claims.name;
}
export function code(err: unknown): ClientErrorCode | null {
  return err instanceof TokenBrokerError ? err.code : null;
}
`,
  // The React glue, over the same client types.
  'react.ts': `
import { createElement } from 'react';
import { TokenBrokerError, TokenBrokerProvider, useSession, type ClientErrorCode, type ErrorCode, type SessionState } from 'token-broker/react';
import type { TokenBroker } from 'token-broker/client';

// The error class and codes come from the glue as from the client.
export const codeOf = (err: unknown): ClientErrorCode | null => (err instanceof TokenBrokerError ? err.code : null);
export const workerCode: ErrorCode = 'invalid_credentials';

export const tree = createElement(TokenBrokerProvider, { options: { scriptURL: '/sw.js' } });
export function Greeting(): string | undefined {
  const state: SessionState<{ name: string }> = useSession<{ name: string }>();
  const broker: TokenBroker<{ name: string }> | null = state.broker;
  void broker?.logout();
  return state.error?.code ?? state.session?.claims.name;
}
`,
  // The Vue glue.
  'vue.ts': `
import { createApp } from 'vue';
import { tokenBroker, TokenBrokerError, useSession, type ClientErrorCode, type ErrorCode, type SessionRefs } from 'token-broker/vue';

export const codeOf = (err: unknown): ClientErrorCode | null => (err instanceof TokenBrokerError ? err.code : null);
export const workerCode: ErrorCode = 'invalid_credentials';

export const app = createApp({}).use(tokenBroker, { scriptURL: '/sw.js' });
export function setup(): string | undefined {
  const refs: SessionRefs<{ name: string }> = useSession<{ name: string }>();
  return refs.session.value?.claims.name ?? refs.error.value?.code;
}
`,
  // The app's own worker.
  'worker.ts': `
import { ConfigError, DEFAULT_CONFIG, installTokenBroker, MessageType, type TokenBrokerConfig } from 'token-broker/sw';
import { dpopSupport } from 'token-broker/sw/dpop';
import { passkeySupport } from 'token-broker/sw/passkeys';

declare const self: ServiceWorkerGlobalScope;
const config: TokenBrokerConfig = { apiPrefixes: ['/api/'], persist: 'memory', dpop: true, endpoints: { passkey: '/auth/passkey' } };
export const installed = installTokenBroker(self, config, { dpop: dpopSupport, passkeys: passkeySupport });
export const defaults = [DEFAULT_CONFIG.refreshBeforeExpiry, MessageType.login, ConfigError.name];
// @ts-expect-error a misspelt key is caught
installTokenBroker(self, { apiPrefix: ['/api/'] });
`,
  // The server half with both adapters, every store and the conformance cases.
  'server.ts': `
import express from 'express';
import Fastify from 'fastify';
import { configuredWorkerScript, createTokenBroker, memoryJtiStore, memoryRateLimits, memoryStore, OptionError, type Account, type RefreshStore } from 'token-broker/server';
import { requireAccessToken as guardExpress, tokenBrokerRouter, tokenClaims as claimsExpress } from 'token-broker/server/express';
import { limitJsonDepth, requireAccessToken as guardFastify, tokenBroker, tokenClaims as claimsFastify } from 'token-broker/server/fastify';
import { openRedisStore, redisJtiStore } from 'token-broker/server/redis';
import { openSqliteJtiStore, openSqliteStore } from 'token-broker/server/sqlite';
import { createOidcTokenHandler, SIGN_IN_ERROR_PARAM, type SignInErrorCode } from 'token-broker/server/oidc';
import { passkeyStoreConformance, POLICY, storeConformance } from 'token-broker/server/testing';
import { createPasskeys, memoryPasskeyStore, PASSKEY_ACR, type PasskeyStore } from 'token-broker/server/passkeys';
import { sqlitePasskeyStore } from 'token-broker/server/sqlite';
import { redisPasskeyStore } from 'token-broker/server/redis';

export async function main(): Promise<void> {
  const verifyCredentials = async (c: Record<string, unknown>): Promise<Account | null> => (c.username === 'alice' ? { sub: 'alice', claims: { role: 'reader' } } : null);
  const broker = await createTokenBroker({ store: memoryStore(), jti: memoryJtiStore(), rateLimits: memoryRateLimits(), verifyCredentials, renewHeader: 'x-renewed-token' });
  const app = express();
  const signIn = createOidcTokenHandler(broker, { issuer: 'https://idp.example', clientId: 'app', clientSecret: 's', redirectUri: 'https://app.example/auth/oidc/callback', secret: 'x'.repeat(43) });
  const code: SignInErrorCode = 'access_denied';
  void [code, SIGN_IN_ERROR_PARAM];
  app.use(tokenBrokerRouter(broker, { signIn }));
  app.get('/api/me', guardExpress(broker), (_req, res) => void res.json({ sub: claimsExpress(res).sub }));
  const fastify = Fastify();
  limitJsonDepth(fastify);
  await fastify.register(tokenBroker, { broker, signIn });
  fastify.get('/api/me', { preHandler: guardFastify(broker) }, async (request) => ({ sub: claimsFastify(request).sub }));
  const stores: RefreshStore[] = [openSqliteStore(':memory:'), await openRedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'x:' })];
  void [openSqliteJtiStore(':memory:'), stores, POLICY, configuredWorkerScript('', { exposeClaims: ['sub'] }), OptionError];
  void redisJtiStore;
  const passkeyStores: PasskeyStore[] = [memoryPasskeyStore(), sqlitePasskeyStore(':memory:')];
  const passkeys = createPasskeys(broker, { store: passkeyStores[0]!, rpName: 'App', rpID: 'app.example.com', origins: ['https://app.example.com'] });
  app.use(tokenBrokerRouter(broker, { passkeys }));
  await Fastify().register(tokenBroker, { broker, passkeys });
  fastify.post('/auth/passkey/:step', async (request, reply) => reply.send((await passkeys.handle({ method: 'POST', url: request.url, origin: 'https://app.example.com', headers: request.headers, body: request.body, ip: request.ip })).body));
  void [redisPasskeyStore, PASSKEY_ACR === 'phr', passkeyStoreConformance];
  for (const c of storeConformance(async () => ({ open: async () => memoryStore(), dispose: async () => {} }))) void c.name;
  // @ts-expect-error the options are typed
  await createTokenBroker({ store: memoryStore(), verifyCredentials, accessTokenTTL: 5 });
}
`,
};

const LIBS: Record<keyof typeof SAMPLES, string[]> = {
  'client.ts': ['ES2022', 'DOM', 'DOM.Iterable'],
  'react.ts': ['ES2022', 'DOM', 'DOM.Iterable'],
  'vue.ts': ['ES2022', 'DOM', 'DOM.Iterable'],
  'worker.ts': ['ES2022', 'WebWorker'],
  'server.ts': ['ES2022'],
};

test.beforeAll(() => {
  test.setTimeout(240_000);
  tarball = packedTarball();
  project = mkdtempSync(join(tmpdir(), 'broker-types-'));
  const typescript = (JSON.parse(readFileSync('node_modules/typescript/package.json', 'utf8')) as { version: string }).version;
  installInto(project, {
    typescript,
    '@types/node': '^20',
    express: '^5',
    '@types/express': '^5',
    fastify: '^5',
    ioredis: '^5',
    'openid-client': '^6.9',
    react: '^19',
    '@types/react': '^19',
    vue: '^3.5',
  });
  mkdirSync(join(project, 'src'));
  for (const [file, code] of Object.entries(SAMPLES)) writeFileSync(join(project, 'src', file), code);
});

function typeCheck(file: string, compilerOptions: Record<string, unknown>): string {
  const config = join(project, `tsconfig.${file}.${String(compilerOptions.moduleResolution)}.json`);
  const types = file === 'server.ts' ? ['node'] : [];
  writeFileSync(
    config,
    JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', types, ...compilerOptions }, files: [`src/${file}`] }),
  );
  try {
    execFileSync(join(project, 'node_modules/.bin/tsc'), ['-p', config], { cwd: project, encoding: 'utf8' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout);
  }
}

for (const [moduleResolution, module] of [
  ['bundler', 'esnext'],
  ['node16', 'node16'],
  ['nodenext', 'nodenext'],
] as const) {
  test(`every public API type-checks under moduleResolution ${moduleResolution}, strict, without skipLibCheck`, () => {
    for (const file of Object.keys(SAMPLES) as (keyof typeof SAMPLES)[]) {
      expect(typeCheck(file, { module, moduleResolution, lib: LIBS[file] }), `${file} under ${moduleResolution}`).toBe('');
    }
  });
}

test('TokenBrokerError from token-broker/react and token-broker/vue is the client\'s class, so instanceof holds across entries', () => {
  const script = `
import { TokenBrokerError } from 'token-broker/client';
import * as react from 'token-broker/react';
import * as vue from 'token-broker/vue';
console.log(JSON.stringify([react.TokenBrokerError === TokenBrokerError, vue.TokenBrokerError === TokenBrokerError, new vue.TokenBrokerError('timeout', 'x') instanceof react.TokenBrokerError]));
`;
  writeFileSync(join(project, 'errors.mjs'), script);
  expect(execFileSync(process.execPath, ['errors.mjs'], { cwd: project, encoding: 'utf8' }).trim()).toBe('[true,true,true]');
});

test('the main entry type-checks under moduleResolution node10', () => {
  writeFileSync(
    join(project, 'src', 'legacy.ts'),
    "import { registerTokenBroker } from 'token-broker';\nexport const broker = registerTokenBroker<{ sub: string }>().then((b) => b.status()).then((s) => s.claims.sub);\n",
  );
  expect(typeCheck('legacy.ts', { module: 'commonjs', moduleResolution: 'node10', lib: LIBS['client.ts'] })).toBe('');
});

test('@arethetypeswrong/cli and publint find no problem in the tarball', () => {
  // The served worker scripts are files to serve, not modules to import: they have no types.
  execFileSync(bin('attw'), [tarball, '--profile', 'esm-only', '--exclude-entrypoints', './sw.js', './sw-dpop.js', './sw.dev.js', './sw-dpop.dev.js', './sw-remove.js'], { stdio: 'pipe' });
  execFileSync(bin('attw'), [tarball, '--entrypoints', '.', '--ignore-rules', 'cjs-resolves-to-esm'], { stdio: 'pipe' });
  const lint = execFileSync(bin('publint'), [tarball, '--strict'], { encoding: 'utf8' });
  expect(lint).toContain('All good');
});
