import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Built files are not linted; the hand-written kill switch is.
  { ignores: ['node_modules/', 'dist/', 'public/*.js', '!public/sw-remove.js', 'test-results/', 'playwright-report/', '**/*.d.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly' } },
  },
  {
    // The Express example's page script, plain JavaScript in the browser.
    files: ['examples/express/public/*.js'],
    languageOptions: { globals: { document: 'readonly', window: 'readonly', fetch: 'readonly' } },
  },
  {
    // A classic service worker, plain JavaScript.
    files: ['examples/import-scripts/*.js'],
    languageOptions: { globals: { self: 'readonly', importScripts: 'readonly', Response: 'readonly' } },
  },
  // The layout (docs/architecture.md): each folder imports only the floors below it, and
  // nothing of the package imports the reference app, the tests or the benchmarks.
  ...layers(),
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);

/**
 * One `no-restricted-imports` block per folder (a file meets exactly one, since a later
 * block's options would replace an earlier one's). Each regex is matched against the
 * import's specifier as written, so `../` counts the floors it climbs.
 */
function layers() {
  const tooling = { regex: '(^|/)(reference-server|e2e|bench|soak|examples|cli)(/|$)', message: 'The library imports nothing of the reference app, the tests, the benchmarks or the examples (docs/architecture.md).' };
  const testSupport = { regex: '(^|/)test-support(/|$)', message: 'test-support/ is for tests, soak and benchmarks, not for shipped code.' };
  // An optional peer dependency: only server/passkeys/ (behind token-broker/server/passkeys) may load it.
  const webauthn = { regex: '^@simplewebauthn/server$', message: 'Only server/passkeys/ imports @simplewebauthn/server (an optional peer dependency).' };
  const up = (regex, what) => ({ regex, message: `${what} (docs/architecture.md: no import runs back up a floor).` });
  const rule = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
  const lib = 'server';
  const code = (dir) => ({ files: [`${dir}/**/*.ts`], ignores: ['**/*.test.ts'] });
  return [
    // The library's floors, bottom up: store; tokens and dpop (on store, and the shared
    // core/errors and core/http); core (the broker); the adapters; the entry points.
    { ...code(`${lib}/store`), ignores: ['**/*.test.ts', `${lib}/store/conformance.ts`], rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(core|tokens|dpop|express|fastify|entries)(/|$)', 'A store knows only its own types')) },
    // The conformance suite drives a store through the refresh-token rotation it serves.
    { files: [`${lib}/store/conformance.ts`], rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(core|dpop|express|fastify|entries)(/|$)', 'The conformance suite uses the stores and the token rotation only')) },
    { ...code(`${lib}/tokens`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(core/(?!errors$)|dpop|express|fastify|entries)', 'Tokens and keys sit below the broker and the adapters')) },
    { ...code(`${lib}/dpop`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(core/(?!errors$|http$)|tokens|express|fastify|entries)', 'DPoP sits below the broker and the adapters')) },
    { ...code(`${lib}/events`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(core/(?!http$)|tokens|dpop|store|express|fastify|entries)', 'Security events sit below the broker and the adapters')) },
    { ...code(`${lib}/lifetime`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(core|tokens|dpop|store|express|fastify|entries)(/|$)|^\\.\\./events/(?!types$)', 'The lifetime policy sits below the broker; of the events it knows the types only')) },
    // Step-up (RFC 9470): pure checks and the challenge, on core/errors, core/http and the worker's protocol types.
    { ...code(`${lib}/step-up`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(core/(?!errors$|http$)|tokens|dpop|express|fastify|entries)', 'Step-up sits below the broker and the adapters')) },
    // Passkey step-up: on the broker's public members (the core's types), core/errors, core/http, core/csrf and the
    // worker's protocol; the one folder that imports @simplewebauthn/server.
    // Token-handler mode (OpenID Connect upstream): on the broker's public face, beside the adapters.
    { ...code(`${lib}/oidc`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(express|fastify|entries|store|tokens|dpop)(/|$)', 'The OIDC token handler uses the broker (core), not the adapters or what lies below the core')) },
    { ...code(`${lib}/passkeys`), rules: rule(tooling, testSupport, up('^\\.\\./(core/(?!errors$|http$|csrf$|token-broker$)|tokens|dpop|store|express|fastify|entries)', 'Passkeys sit on the broker, below the adapters and entry points')) },
    { ...code(`${lib}/core`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(express|fastify|entries)(/|$)', 'The core does not know its adapters or entry points')) },
    { ...code(`${lib}/express`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(fastify|entries)(/|$)', 'An adapter does not know the other adapter or the entry points')) },
    { ...code(`${lib}/fastify`), rules: rule(tooling, testSupport, webauthn, up('^\\.\\./(express|entries)(/|$)', 'An adapter does not know the other adapter or the entry points')) },
    { ...code(`${lib}/entries`), rules: rule(tooling, testSupport) },
    // The library's tests use the test tooling, never the reference app.
    { files: [`${lib}/**/*.test.ts`], rules: rule(tooling) },
    // The worker: its modules do not import its entry files; nothing of it imports the server.
    { files: ['sw/**/*.ts'], ignores: ['**/*.test.ts', 'sw/entries/**'], rules: rule(tooling, testSupport, webauthn, up('(^|/)(entries|server|client)(/|$)', 'The worker\'s modules are imported by its entry files, not the other way')) },
    { files: ['sw/entries/**/*.ts'], rules: rule(tooling, testSupport, webauthn, up('(^|/)(server|client)(/|$)', 'The worker does not import the server or the page client')) },
    { files: ['client/**/*.ts', 'react/**/*.ts', 'vue/**/*.ts'], ignores: ['**/*.test.ts'], rules: rule(tooling, testSupport, webauthn, up('(^|/)(server|sw/(?!config$|protocol$))', 'The page client shares only the worker\'s config and protocol types')) },
    // The reference app is an adopter: the library's public entry points (server/entries/*,
    // what `token-broker/server...` exports), and the worker's config schema.
    {
      files: ['reference-server/**/*.ts'],
      ignores: ['**/*.test.ts', 'reference-server/test-settings.ts'],
      rules: rule(
        { regex: '(^|/)(e2e|bench|soak|examples|test-support)(/|$)', message: 'The reference app does not import the tests, the soak or the benchmarks.' },
        { regex: '(^|/)server/(?!entries/)', message: 'The reference app uses the library through its public entry points (server/entries/*).' },
        { regex: '(^|/)sw/(?!config$)', message: 'The reference app knows only the worker\'s configuration schema.' },
      ),
    },
    { files: ['test-support/**/*.ts'], rules: rule({ regex: '(^|/)(reference-server|e2e|bench|soak)(/|$)', message: 'test-support/ sits below the tests and the app it serves.' }) },
  ];
}
