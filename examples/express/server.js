// An Express 5 backend for the token broker: the token endpoints, an API
// route behind the access-token guard, the worker script with its
// configuration, and a page. Only token-broker's public exports are used.
import express from 'express';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { configuredWorkerScript, createTokenBroker, memoryStore } from 'token-broker/server';
import { requireAccessToken, tokenBrokerRouter, tokenClaims } from 'token-broker/server/express';

// Your user directory goes here; passwords are kept only as scrypt hashes.
const hash = promisify(scrypt);
const salt = randomBytes(16);
const users = new Map([['alice', { name: 'Alice', key: await hash('wonderland', salt, 32) }]]);

const broker = await createTokenBroker({
  // One process; openSqliteStore() (token-broker/server/sqlite) keeps sessions across restarts,
  // openRedisStore() (token-broker/server/redis) shares them between instances.
  store: memoryStore(),
  async verifyCredentials({ username, password }) {
    const user = typeof username === 'string' ? users.get(username) : undefined;
    const key = await hash(typeof password === 'string' ? password : '', salt, 32);
    return user && timingSafeEqual(key, user.key) ? { sub: username, claims: { name: user.name } } : null;
  },
  accessTokenTtl: Number(process.env.ACCESS_TOKEN_TTL ?? 300),
  rotationGraceSeconds: Number(process.env.ROTATION_GRACE_SECONDS ?? 10),
  // http://localhost in development; keep the default (true) behind https.
  cookieSecure: process.env.COOKIE_SECURE !== 'false',
});

const app = express();
app.use(tokenBrokerRouter(broker));
app.get('/api/me', requireAccessToken(broker), (_req, res) => {
  const { sub, name } = tokenClaims(res);
  res.json({ sub, name });
});

// The worker's configuration is fixed here, where its script is served: never by the page.
const worker = configuredWorkerScript(await readFile(fileURLToPath(import.meta.resolve('token-broker/sw.js')), 'utf8'), {
  exposeClaims: ['sub', 'name'],
  refreshBeforeExpiry: Number(process.env.REFRESH_BEFORE_EXPIRY ?? 30),
});
app.get('/sw.js', (_req, res) => void res.type('text/javascript').set('cache-control', 'no-cache').send(worker));
app.get('/token-broker-client.js', (_req, res) => void res.sendFile(fileURLToPath(import.meta.resolve('token-broker/client'))));
// STATIC_DIR: another front end's build (the Vite + React example's dist/).
app.use(express.static(process.env.STATIC_DIR ?? fileURLToPath(new URL('public', import.meta.url))));

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? 'localhost', () => {
  const { port } = server.address();
  console.log(`listening on http://${process.env.HOST ?? 'localhost'}:${port}`);
});
