// Serving a standalone script with its configuration: checked first, with the
// message the production script leaves out.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { ConfigError, type TokenBrokerConfig } from '../../sw/config';
import { configuredSourceMap, configuredWorkerScript, standaloneBuild } from './worker-script';

test('the configuration goes on a line of its own above the script', () => {
  expect(configuredWorkerScript('built();', { exposeClaims: ['sub', 'name'] })).toBe('self.tokenBrokerConfig??={"exposeClaims":["sub","name"]};\nbuilt();');
  // Even an empty one: a script without the line is a bad_config in the browser.
  expect(configuredWorkerScript('built();', {})).toBe('self.tokenBrokerConfig??={};\nbuilt();');
  expect(JSON.parse(configuredSourceMap('{"version":3,"mappings":"AAAA"}')).mappings).toBe(';AAAA');
});

test('a configuration the worker would refuse is refused before it is served, saying what is wrong', () => {
  const attempt = () => configuredWorkerScript('built();', { apiPrefixes: ['https://evil.example/api/'] });
  expect(attempt).toThrow(ConfigError);
  expect(attempt).toThrow('token broker config: apiPrefixes[0] must be a same-origin path starting with "/"');
});

test('dpop: true with the bearer build is refused on the server, with the fix; the DPoP build takes it', () => {
  // npm test builds public/ first.
  const built = (name: string) => readFileSync(`public/${name}`, 'utf8');
  for (const bearer of ['sw.js', 'sw.dev.js']) {
    const attempt = () => configuredWorkerScript(built(bearer), { dpop: true });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('token broker config: dpop is true, but this script is the bearer build (token-broker/sw.js), which cannot sign proofs and refuses it: serve token-broker/sw-dpop.js, or leave dpop out');
    expect(configuredWorkerScript(built(bearer), { dpop: false })).toContain('self.tokenBrokerConfig??={"dpop":false};');
  }
  for (const dpop of ['sw-dpop.js', 'sw-dpop.dev.js']) {
    expect(standaloneBuild(built(dpop))).toBe('dpop');
    expect(configuredWorkerScript(built(dpop), { dpop: true })).toContain('self.tokenBrokerConfig??={"dpop":true};');
  }
  expect(standaloneBuild(built('sw.js'))).toBe('bearer');
  expect(standaloneBuild('importScripts("/other.js");')).toBe(null);
});

test('a mistyped key is refused with the nearest known key, nested keys included; a key unlike any gets no guess', () => {
  const refused = (config: unknown) => () => configuredWorkerScript('built();', config as TokenBrokerConfig);
  expect(refused({ apiPrefix: ['/api/'] })).toThrow('token broker config: apiPrefix is not a known option; did you mean apiPrefixes?');
  expect(refused({ endpoints: { logn: '/auth/login' } })).toThrow('token broker config: endpoints.logn is not a known option; did you mean endpoints.login?');
  expect(refused({ persits: 'memory' })).toThrow('did you mean persist?');
  expect(refused({ exposeclaims: ['sub'] })).toThrow('did you mean exposeClaims?');
  expect(refused({ colour: 'blue' })).toThrow(/^token broker config: colour is not a known option$/);
});
