import { expect, test } from '@playwright/test';
import { ConfigError } from './config';
import { standaloneConfig } from './standalone-config';

const URL_ = 'http://127.0.0.1:8080/sw-dpop.js';

test('the served global decides, over the build defaults', () => {
  expect(standaloneConfig(URL_, {}, { dpop: true })).toEqual({ dpop: true });
  expect(standaloneConfig(URL_, { persist: 'memory', dpop: false }, { dpop: true })).toEqual({ persist: 'memory', dpop: false });
});

test('a query on the script URL is refused, whatever it says', () => {
  for (const q of ['?dpop=false', '?endpoints.logout=/elsewhere', '?v=2', '?']) {
    // '?' alone leaves no search: the URL parser drops an empty query.
    if (new URL(URL_ + q).search === '') continue;
    expect(() => standaloneConfig(URL_ + q, undefined, {}), q).toThrow(ConfigError);
    expect(() => standaloneConfig(URL_ + q, undefined, {}), q).toThrow(/no query/);
  }
});

test('a global that is not an object is refused', () => {
  expect(() => standaloneConfig(URL_, 'persist=memory', {})).toThrow(/tokenBrokerConfig must be an object/);
  expect(() => standaloneConfig(URL_, [], {})).toThrow(ConfigError);
});

test('without the global (a copy served without its configuration line) nothing runs with the defaults', () => {
  expect(() => standaloneConfig(URL_, undefined, { dpop: true })).toThrow(ConfigError);
  expect(() => standaloneConfig(URL_, undefined, {})).toThrow(/tokenBrokerConfig is not set: serve this script with its configuration line/);
});
