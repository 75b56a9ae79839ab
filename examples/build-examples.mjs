// Builds the integration examples into dist/examples/<name>/, each a site the
// reference server can serve (PUBLIC_DIR), as the e2e tests do.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

const browser = { bundle: true, target: 'es2022', legalComments: 'none', logLevel: 'warning', minify: true, format: 'esm' };
const out = (name) => `dist/examples/${name}`;
const revision = (file) => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);

export async function buildExamples() {
  for (const name of ['workbox', 'import-scripts', 'preact']) {
    mkdirSync(out(name), { recursive: true });
    copyFileSync(`examples/${name}/index.html`, `${out(name)}/index.html`);
  }
  await Promise.all([
    build({ ...browser, entryPoints: ['examples/workbox/app.ts'], outfile: `${out('workbox')}/app.js` }),
    build({ ...browser, entryPoints: ['examples/import-scripts/app.ts'], outfile: `${out('import-scripts')}/app.js` }),
    build({ ...browser, entryPoints: ['examples/preact/app.tsx'], outfile: `${out('preact')}/app.js`, jsx: 'automatic', jsxImportSource: 'preact' }),
  ]);
  // The precache manifest names the built files with content hashes, as workbox-build would.
  const manifest = ['index.html', 'app.js'].map((f) => ({ url: `/${f}`, revision: revision(`${out('workbox')}/${f}`) }));
  await build({
    ...browser,
    format: 'iife',
    entryPoints: ['examples/workbox/example-sw.ts'],
    outfile: `${out('workbox')}/example-sw.js`,
    define: { PRECACHE_MANIFEST: JSON.stringify(manifest), 'process.env.NODE_ENV': '"production"' },
  });
  copyFileSync('examples/import-scripts/classic-sw.js', `${out('import-scripts')}/classic-sw.js`);
  copyFileSync('public/sw.js', `${out('import-scripts')}/sw.js`);
  // The preact example uses the standalone worker as it is.
  copyFileSync('public/sw.js', `${out('preact')}/sw.js`);
}
