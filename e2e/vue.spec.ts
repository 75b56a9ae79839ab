// token-broker/vue as built for the package: in Chromium (Vue's browser build
// and the package's files through an import map, no bundler), and under
// server-side rendering in Node.
import { execFileSync } from 'node:child_process';
import { expect, openApp, test } from './support/fixtures';

const PAGE = `<!doctype html><title>vue</title>
<script type="importmap">{"imports":{"vue":"/vendor/vue.js","token-broker/client":"/vendor/client.js","token-broker/vue":"/vendor/vue-glue.js"}}</script>
<div id="app"></div>
<script type="module">
import { createApp, h } from 'vue';
import { tokenBroker, useSession } from 'token-broker/vue';
const Status = { setup() {
  const { session } = useSession();
  return () => h('p', { 'data-testid': 'state' }, session.value ? (session.value.authenticated ? 'in as ' + session.value.claims.sub : 'out') : 'starting');
} };
createApp({ setup() {
  const { broker } = useSession();
  window.vueBroker = broker;
  return () => h('main', [h(Status), h(Status)]);
} }).use(tokenBroker, { scriptURL: '/sw-dpop.js' }).mount('#app');
</script>`;

test('useSession() in two components: they follow a sign-in made through the broker, and a sign-out in another tab', async ({ context, page, server }) => {
  await context.route('**/vue-app/', (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
  await context.route('**/vendor/vue.js', (route) => route.fulfill({ path: 'node_modules/vue/dist/vue.esm-browser.prod.js', contentType: 'text/javascript' }));
  await context.route('**/vendor/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  await context.route('**/vendor/vue-glue.js', (route) => route.fulfill({ path: 'dist/vue/index.js', contentType: 'text/javascript' }));
  await page.goto(`${server.url}/vue-app/`);
  const states = page.getByTestId('state');
  await expect(states).toHaveText(['out', 'out'], { timeout: 15_000 });
  await page.evaluate(() => (window as unknown as { vueBroker: { value: { login(c: object): Promise<unknown> } } }).vueBroker.value.login({ username: 'alice', password: 'wonderland' }));
  await expect(states).toHaveText(['in as alice', 'in as alice']);
  const other = await context.newPage();
  await openApp(other, server);
  await other.evaluate(() => window.tokenBroker.logout());
  await expect(states).toHaveText(['out', 'out']);
});

test('under server-side rendering the components render with null refs and nothing touches the browser', () => {
  const script = `
import { createSSRApp, h } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { tokenBroker, useSession } from 'token-broker/vue';
const app = createSSRApp({ setup() { const { broker, session, error } = useSession(); return () => h('p', broker.value || session.value || error.value ? 'unexpected' : 'starting'); } });
app.use(tokenBroker, { scriptURL: '/sw.js' });
console.log(await renderToString(app));
`;
  // The package refers to itself by name from its own folder: token-broker/vue is the built file.
  expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe('<p>starting</p>');
});
