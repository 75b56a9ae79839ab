import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from './app';
import { DEFAULT_SETTINGS, parseSettings, SettingsError } from './settings';

const secret = randomBytes(32).toString('base64url');

test('STORE=redis needs REFRESH_SECRET, so that every instance derives the same successors', () => {
  expect(() => parseSettings({ STORE: 'redis' })).toThrow(/REFRESH_SECRET: required with STORE=redis/);
  expect(parseSettings({ STORE: 'redis', REFRESH_SECRET: secret, REDIS_PREFIX: 'app1:' })).toMatchObject({
    store: 'redis',
    refreshSecret: secret,
    redisPrefix: 'app1:',
    redisUrl: 'redis://127.0.0.1:6379',
  });
  expect(parseSettings({}).store).toBe('sqlite');
});

test('an unknown STORE is refused by name', () => {
  expect(() => parseSettings({ STORE: 'mongo' })).toThrow(SettingsError);
});

test('a short or non-base64url REFRESH_SECRET is refused by the library at start, named by its variable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-secret-'));
  for (const [raw, why] of [
    [randomBytes(16).toString('base64url'), /^REFRESH_SECRET: expected at least 32 bytes/],
    [`${secret}+/=`, /^REFRESH_SECRET: expected base64url/],
  ] as const) {
    const settings = parseSettings({ REFRESH_SECRET: raw, DATABASE_PATH: join(dir, 'db.sqlite'), LOG_LEVEL: 'silent' });
    const refused = await buildServer(settings).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(SettingsError);
    expect((refused as Error).message).toMatch(why);
  }
  rmSync(dir, { recursive: true });
});

test('a server built from settings objects gets the same check', async () => {
  await expect(buildServer({ ...DEFAULT_SETTINGS, store: 'redis', logLevel: 'silent' })).rejects.toThrow(/REFRESH_SECRET/);
});

test('NODE_ENV=production needs an explicit COOKIE_SECURE: the default (auto) is refused by name', () => {
  for (const env of [{ NODE_ENV: 'production' }, { NODE_ENV: 'production', COOKIE_SECURE: 'auto' }]) {
    expect(() => parseSettings(env)).toThrow(/^COOKIE_SECURE: auto .*NODE_ENV=production/);
  }
  expect(parseSettings({ NODE_ENV: 'production', COOKIE_SECURE: 'true' }).cookieSecure).toBe(true);
  expect(parseSettings({ NODE_ENV: 'production', COOKIE_SECURE: 'false' }).cookieSecure).toBe(false);
  expect(parseSettings({}).cookieSecure).toBe('auto');
});
