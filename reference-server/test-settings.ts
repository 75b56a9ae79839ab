// Settings for the server's tests of the bearer contract. The reference setup
// requires DPoP with nonces; dpop.test.ts and the e2e tests cover that.
import { DEFAULT_SETTINGS, type Settings } from './settings';

export const BEARER_TEST_SETTINGS: Settings = {
  ...DEFAULT_SETTINGS,
  databasePath: ':memory:',
  logLevel: 'silent',
  publicDir: 'public',
  dpop: 'optional',
  dpopNonce: false,
  // Fastify's inject addresses http://localhost, which the default ('auto') treats as local
  // development; these tests check the production cookie. app.test.ts checks 'auto'.
  cookieSecure: true,
};
