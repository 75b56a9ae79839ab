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
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);
