// Serving a standalone script with its configuration: checked first, with the
// message the production script leaves out.
import { expect, test } from '@playwright/test';
import { ConfigError } from '../../sw/config';
import { configuredSourceMap, configuredWorkerScript } from './worker-script';

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
