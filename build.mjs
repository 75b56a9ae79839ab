// Builds everything with esbuild: the standalone worker into public/, the
// client and the worker module into dist/ (with .d.ts from tsc), the demo
// bundle into public/, and the reference server into dist/reference-server/.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';
import { buildExamples } from './examples/build-examples.mjs';

const browser = { bundle: true, target: 'es2022', legalComments: 'none', logLevel: 'warning', metafile: true };
// sw/dev.ts: the production standalone scripts carry codes and facts, the .dev.js ones and the
// module entry points full messages (the app's bundler decides their size).
const production = { define: { TOKEN_BROKER_DEV: 'false' } };
const development = { define: { TOKEN_BROKER_DEV: 'true' } };
// What the package ships: source maps with positions but not the sources themselves,
// which would be most of the package; the sources are in the repository.
const shipped = { sourcemap: true, sourcesContent: false };
// Node code keeps its dependencies as imports: the package's own, or the app's.
const node = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', sourcemap: true, logLevel: 'warning' };

rmSync('dist', { recursive: true, force: true });

const results = await Promise.all([
  // One classic script: works with navigator.serviceWorker.register() and importScripts().
  build({ ...browser, entryPoints: ['sw/entries/standalone.ts'], outfile: 'public/sw.js', format: 'iife', minify: true, ...shipped, ...production }),
  build({ ...browser, entryPoints: ['sw/entries/standalone-dpop.ts'], outfile: 'public/sw-dpop.js', format: 'iife', minify: true, ...shipped, ...production }),
  build({ ...browser, entryPoints: ['sw/entries/dpop.ts'], outfile: 'dist/sw/dpop.js', format: 'esm', minify: true, ...shipped, ...development }),
  build({ ...browser, entryPoints: ['sw/entries/passkeys.ts'], outfile: 'dist/sw/passkeys.js', format: 'esm', minify: true, ...shipped, ...development }),
  build({ ...browser, entryPoints: ['sw/entries/index.ts'], outfile: 'dist/sw/index.js', format: 'esm', minify: true, ...shipped, ...development }),
  build({ ...browser, entryPoints: ['client/index.ts'], outfile: 'dist/client/index.js', format: 'esm', minify: true, ...shipped }),
  build({ ...browser, entryPoints: ['sw/entries/standalone.ts'], outfile: 'public/sw.dev.js', format: 'iife', minify: true, ...shipped, ...development }),
  build({ ...browser, entryPoints: ['sw/entries/standalone-dpop.ts'], outfile: 'public/sw-dpop.dev.js', format: 'iife', minify: true, ...shipped, ...development }),
  // The framework glue: the framework and the client stay imports, so the app has one copy of each.
  // token-broker/passkeys: @simplewebauthn/browser bundled in, the client an import (one TokenBrokerError).
  build({
    ...browser,
    entryPoints: ['client/passkeys.ts'],
    outfile: 'dist/passkeys/index.js',
    format: 'esm',
    minify: true,
    ...shipped,
    plugins: [{ name: 'client-import', setup: (b) => b.onResolve({ filter: /^\.\/index$/ }, () => ({ path: 'token-broker/client', external: true })) }],
  }),
  ...['react', 'vue'].map((glue) =>
    build({
      ...browser,
      entryPoints: [`${glue}/index.ts`],
      outfile: `dist/${glue}/index.js`,
      format: 'esm',
      minify: true,
      ...shipped,
      external: [glue],
      plugins: [{ name: 'client-import', setup: (b) => b.onResolve({ filter: /^\.\.\/client\/index$/ }, () => ({ path: 'token-broker/client', external: true })) }],
    }),
  ),
  existsSync('public/demo.ts') &&
    build({ ...browser, entryPoints: ['public/demo.ts'], outfile: 'public/demo.js', format: 'esm', minify: true, sourcemap: true }),
  build({
    // token-broker/server and its adapters and stores: one ESM file per entry point,
    // shared code in chunks; frameworks, drivers and libraries stay imports.
    entryPoints: Object.fromEntries(['index', 'sqlite', 'redis', 'fastify', 'express', 'oidc', 'testing', 'passkeys'].map((e) => [e, `server/entries/${e}.ts`])),
    outdir: 'dist/lib/server',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    ...node,
    ...shipped,
  }),
  build({ entryPoints: ['cli/token-broker.ts'], outfile: 'dist/bin/token-broker.js', ...node, banner: { js: '#!/usr/bin/env node' } }),
  build({ entryPoints: ['vite/index.ts'], outfile: 'dist/vite/index.js', ...node, ...shipped }),
  build({
    // The server, the in-process startServer() that bench/dpop.mjs uses, the browser
    // benchmark, the soak and its server process, and the throwaway redis-server that
    // bench/server.mjs starts as the tests do.
    entryPoints: {
      'reference-server/index': 'reference-server/index.ts',
      'reference-server/app': 'reference-server/app.ts',
      'test-support/redis-server': 'test-support/redis-server.ts',
      'bench/run': 'bench/run.ts',
      'bench/revocation': 'bench/revocation.ts',
      'soak/run': 'soak/run.ts',
      'soak/server-child': 'soak/server-child.ts',
    },
    outdir: 'dist',
    ...node,
  }),
]);

/**
 * The licence texts of the libraries bundled into the shipped browser files
 * (their own notices are stripped with the comments), found from the bundles'
 * inputs, so the list cannot drift from what is bundled.
 */
function writeThirdPartyLicenses(metafiles) {
  const packages = new Set();
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (match) packages.add(match[1]);
    }
  }
  const sections = [...packages].sort().map((name) => {
    const dir = `node_modules/${name}`;
    const { version, license } = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
    const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
    return `## ${name} ${version} (${license})\n\n${file ? readFileSync(`${dir}/${file}`, 'utf8').trim() : 'No licence file in the package.'}\n`;
  });
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/THIRD_PARTY_LICENSES.md', `# Third-party code bundled into token-broker's browser files\n\n${sections.join('\n')}`);
}
// The shipped browser bundles are the first eleven builds.
writeThirdPartyLicenses(results.slice(0, 11).map((r) => r.metafile));

/**
 * A second pass over the files with a size budget: terser finds about 5 %
 * more than esbuild's minifier. The source map is carried through.
 */
async function squeeze(file) {
  const code = readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '');
  const out = await minify(code, {
    module: file.endsWith('.js') && file.startsWith('dist/'),
    ecma: 2022,
    compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
    mangle: { toplevel: true },
    sourceMap: { content: readFileSync(`${file}.map`, 'utf8'), url: file.split('/').pop() + '.map' },
  });
  const map = JSON.parse(out.map);
  delete map.sourcesContent;
  writeFileSync(file, `${out.code}\n`);
  writeFileSync(`${file}.map`, JSON.stringify(map));
}
await Promise.all(['public/sw.js', 'public/sw-dpop.js', 'dist/client/index.js'].map(squeeze));

// After the worker scripts: the examples ship copies of them.
await buildExamples();

if (!process.argv.includes('--no-types')) {
  // One self-contained declaration file per entry point: no relative import is left for a
  // consumer's module resolution (node10, node16, nodenext, bundler) to get wrong. Types of
  // the libraries bundled into the browser files are inlined, since users do not install them.
  const { generateDtsBundle } = await import('dts-bundle-generator');
  const browser = { libraries: { inlinedLibraries: ['idb-keyval', 'workbox-window'] }, output: { noBanner: true } };
  const server = { output: { noBanner: true } };
  const projects = [
    ['client/tsconfig.json', [['client/index.ts', 'client', browser]]],
    ['client/tsconfig.json', [['client/passkeys.ts', 'passkeys', { libraries: { inlinedLibraries: ['@simplewebauthn/browser'] }, output: { noBanner: true } }]]],
    ['react/tsconfig.json', [['react/index.ts', 'react', browser]]],
    ['vue/tsconfig.json', [['vue/index.ts', 'vue', browser]]],
    ['sw/tsconfig.json', [['sw/entries/index.ts', 'sw', browser], ['sw/entries/dpop.ts', 'sw-dpop', browser], ['sw/entries/passkeys.ts', 'sw-passkeys', browser]]],
    ['vite/tsconfig.json', [['vite/index.ts', 'vite', { output: { noBanner: true } }]]],
    ['server/tsconfig.json', ['index', 'sqlite', 'redis', 'fastify', 'express', 'oidc', 'testing', 'passkeys'].map((e) => [`server/entries/${e}.ts`, `server/${e}`, server])],
  ];
  mkdirSync('dist/types/server', { recursive: true });
  for (const [preferredConfigPath, entries] of projects) {
    const outputs = generateDtsBundle(entries.map(([filePath, , options]) => ({ filePath, ...options })), { preferredConfigPath });
    entries.forEach(([, name], i) => writeFileSync(`dist/types/${name}.d.ts`, outputs[i]));
  }
}
