// The client's heartbeat is one timer per page, however many clients the page
// makes: a React provider that remounts (StrictMode, a route change) calls
// registerTokenBroker() again each time, and each call must not add a timer.
// Page time is Playwright's fake clock; the pings are counted where they leave
// the page, at ServiceWorker.postMessage.
import { expect, openApp, test } from './support/fixtures';

test('three clients in one page send one ping every 20 s, not three', async ({ context, page, server }) => {
  await context.route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  await openApp(page, server);
  await page.clock.install();
  const script = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
  await page.evaluate(async (scriptURL) => {
    const w = window as unknown as { pings: number; clients: { unregister(o: object): Promise<boolean> }[] };
    w.pings = 0;
    const post = ServiceWorker.prototype.postMessage;
    ServiceWorker.prototype.postMessage = function (this: ServiceWorker, message: unknown, ...rest: never[]) {
      if ((message as { type?: string }).type === 'broker:ping' && rest.length === 0) w.pings++;
      return post.call(this, message, ...rest);
    } as typeof post;
    const client = (await import('/client.js' as string)) as { registerTokenBroker: (o: object) => Promise<{ unregister(o: object): Promise<boolean> }> };
    w.clients = [];
    for (let i = 0; i < 3; i++) w.clients.push(await client.registerTokenBroker({ scriptURL }));
  }, script);
  const pings = () => page.evaluate(() => (window as unknown as { pings: number }).pings);
  await page.clock.runFor(60_000);
  expect(await pings()).toBe(3);
});
