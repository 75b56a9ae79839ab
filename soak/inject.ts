// Carries out one fault against the running world and returns once it is over.
import type { BrowserContext } from '@playwright/test';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault } from './fault-plan';
import type { Invariants } from './invariants';
import type { FaultProxy } from './proxy';
import type { TestRedis } from '../test-support/redis-server';
import type { ServerProcess } from './server-process';
import type { Tab } from './tab';

export interface World {
  context: BrowserContext;
  tabs: Tab[];
  proxy: FaultProxy;
  /** The server instances, in the order of the proxy's upstreams. */
  servers: ServerProcess[];
  /** The shared Redis, with the store on it. */
  redis: TestRedis | null;
  invariants: Invariants;
  /** The copy of the public directory the server serves: a deploy changes the worker script there. */
  site: string;
  workerScript: string;
  log(text: string): void;
  /** Collects what a tab's page holds before it is closed or reloaded. */
  drain(tab: Tab): Promise<void>;
  openTab(): Promise<Tab>;
  signIn(tab: Tab): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a sign-out's broadcast may take to reach every tab. */
export const SIGN_OUT_BROADCAST_MS = 1500;

let deploys = 0;

export async function inject(world: World, fault: Fault): Promise<void> {
  const { context, proxy, servers, invariants } = world;
  const tabAt = (i: number) => world.tabs[i % world.tabs.length]!;
  switch (fault.kind) {
    case 'worker-stop': {
      const cdp = await context.newCDPSession(world.tabs[0]!.page);
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      await cdp.detach();
      return;
    }
    case 'offline':
      // At the proxy, not with context.setOffline: that waits on every worker's DevTools session, and a
      // stopped worker waiting to take over answers none until it runs, up to Chromium's 5-minute limit.
      // The worker sees the same network error either way; it does not read navigator.onLine.
      proxy.setBlackout(true);
      await sleep(fault.holdMs);
      proxy.setBlackout(false);
      return;
    case 'refresh-5xx':
    case 'refresh-429':
    case 'refresh-drop':
      proxy.refreshFault =
        fault.kind === 'refresh-drop'
          ? { kind: 'drop', when: fault.when }
          : { kind: 'status', status: fault.kind === 'refresh-429' ? 429 : fault.status, retryAfter: fault.kind === 'refresh-429' ? fault.retryAfter : null };
      await sleep(fault.holdMs);
      proxy.refreshFault = null;
      return;
    case 'server-restart': {
      const i = fault.instance % servers.length;
      proxy.upstreams[i] = null;
      await servers[i]!.kill();
      await sleep(fault.downMs);
      proxy.upstreams[i] = await servers[i]!.start();
      return;
    }
    case 'redis-down':
    case 'redis-restart':
      // Killed, as a crash would: only the append-only file keeps the sessions.
      await world.redis!.kill();
      if (fault.kind === 'redis-down') await sleep(fault.holdMs);
      await world.redis!.restart();
      return;
    case 'clock-jump':
      for (const server of servers) server.setClock(fault.offsetSeconds);
      invariants.setClockOffset(fault.offsetSeconds);
      return;
    case 'tab-close': {
      const tab = tabAt(fault.tab);
      world.tabs.splice(world.tabs.indexOf(tab), 1);
      await world.drain(tab);
      // Requests are in flight: two loops with 100 ms pauses.
      await tab.page.close();
      invariants.tabClosed(tab.id);
      world.tabs.push(await world.openTab());
      return;
    }
    case 'hard-reload': {
      const tab = tabAt(fault.tab);
      world.tabs.splice(world.tabs.indexOf(tab), 1);
      await world.drain(tab);
      invariants.tabClosed(tab.id);
      // Shift+Reload: the new document starts uncontrolled; the client must bring it under the worker.
      const cdp = await context.newCDPSession(tab.page);
      await Promise.all([tab.page.waitForEvent('load'), cdp.send('Page.reload', { ignoreCache: true })]);
      await cdp.detach();
      await tab.ready();
      world.tabs.push(tab);
      return;
    }
    case 'worker-update': {
      appendFileSync(join(world.site, world.workerScript), `\n// deploy ${++deploys}\n`);
      const page = world.tabs[0]!.page;
      // The new version installs now and waits until no tab uses the old one (sw/install.ts): each open tab
      // keeps the version it loaded with. The soak's tabs never all close, so a takeover is rare (the tabs log it).
      const outcome = await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration();
        const before = registration?.active;
        await registration?.update();
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          if (registration?.waiting || registration?.active !== before) return 'installed';
          await new Promise((r) => setTimeout(r, 100));
        }
        return `installing: ${registration?.installing?.state}, waiting: ${registration?.waiting?.state}, active: ${registration?.active?.state}`;
      });
      if (outcome !== 'installed') throw new Error(`the new worker version did not install within 15 s (${outcome})`);
      return;
    }
    case 'sign-out-in': {
      invariants.signOutStarted(Date.now());
      await tabAt(fault.signOutTab).page.evaluate(() => window.tokenBroker.logout());
      await sleep(SIGN_OUT_BROADCAST_MS);
      for (const tab of world.tabs) {
        // A tab that heard of no session change since it opened believes what it asked at load.
        const { told, worker } = await tab.session();
        if (told !== false || worker) {
          invariants.violate(Date.now(), 'signed-in-after-sign-out', `tab ${tab.id} still signed in ${SIGN_OUT_BROADCAST_MS} ms after the sign-out (told: ${told}, worker: ${worker})`);
        }
      }
      await sleep(fault.outMs);
      await world.signIn(tabAt(fault.signInTab));
      return;
    }
  }
}
