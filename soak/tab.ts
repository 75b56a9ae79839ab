// One tab of the demo app making continuous mixed API traffic (GETs, and POSTs
// whose bodies the API echoes), as plain page code does: fetch('/api/...').
// The page keeps its results and session events; the soak drains them.
import type { BrowserContext, Page } from '@playwright/test';
import type { PageResult } from './invariants';

export interface TabDrain {
  results: PageResult[];
  events: { reason: string; at: number }[];
  /** Start of the oldest request still in flight, or null. */
  oldestPending: number | null;
}

interface SoakWindow {
  __soak: {
    results: PageResult[];
    events: { reason: string; at: number }[];
    /** The last session event, kept when the events are drained: what the tab believes now. */
    last: { reason: string; authenticated: boolean; at: number } | null;
    pending: Map<string, number>;
    stopped: boolean;
  };
}

/** Runs in the page. `loops` requests at a time, each followed by a pause. */
function startTraffic({ tab, loops, pauseMs }: { tab: number; loops: number; pauseMs: number }): void {
  const state: SoakWindow['__soak'] = { results: [], events: [], last: null, pending: new Map(), stopped: false };
  (window as unknown as SoakWindow).__soak = state;
  window.tokenBroker.onSessionChange((e) => {
    state.events.push({ reason: e.reason, at: Date.now() });
    state.last = { reason: e.reason, authenticated: e.session.authenticated, at: Date.now() };
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => state.events.push({ reason: 'controllerchange', at: Date.now() }));
  let seq = 0;
  // A request of an earlier document in this tab may still be on its way to the API (a reload does not stop
  // the worker's fetch), so ids name the document as well: a repeated id is a real second send.
  const doc = crypto.randomUUID().slice(0, 8);
  const one = async () => {
    const id = `${tab}.${doc}-${++seq}`;
    const post = seq % 3 === 0;
    const sent = post ? JSON.stringify({ id, pad: 'x'.repeat(seq % 512) }) : null;
    const start = Date.now();
    state.pending.set(id, start);
    let status = 0;
    let code: string | null = null;
    let echoOk: boolean | null = null;
    try {
      const res = await fetch(post ? '/api/echo' : '/api/me', post ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: sent } : {});
      status = res.status;
      const body = (await res.json().catch(() => null)) as { error?: { code?: string } | string; body?: unknown } | null;
      code = typeof body?.error === 'string' ? body.error : (body?.error?.code ?? null);
      if (post) echoOk = JSON.stringify(body?.body) === sent;
    } catch {
      // A network error: status 0.
    }
    state.pending.delete(id);
    state.results.push({ tab, id, method: post ? 'POST' : 'GET', status, code, echoOk, start, end: Date.now() });
  };
  const loop = async () => {
    while (!state.stopped) {
      await one();
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  for (let i = 0; i < loops; i++) void loop();
}

function drainPage(): TabDrain {
  const state = (window as unknown as SoakWindow).__soak;
  if (!state) return { results: [], events: [], oldestPending: null };
  const starts = [...state.pending.values()];
  return { results: state.results.splice(0), events: state.events.splice(0), oldestPending: starts.length ? Math.min(...starts) : null };
}

/** A page that does not answer in 15 s is stuck; the soak says so rather than wait with it. */
function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in 15 s`)), 15_000)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class Tab {
  constructor(
    readonly id: number,
    readonly page: Page,
  ) {}

  static async open(context: BrowserContext, url: string, id: number): Promise<Tab> {
    const tab = new Tab(id, await context.newPage());
    await tab.ready(url);
    return tab;
  }

  /** Loads (or has reloaded) the app, waits until the worker controls it, and starts the traffic. */
  async ready(url?: string): Promise<void> {
    if (url) await this.page.goto(url);
    await this.page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 30_000 });
    await this.page.evaluate(startTraffic, { tab: this.id, loops: 2, pauseMs: 100 });
  }

  /** The session as this tab was last told of it, and as its worker reports it now. */
  async session(): Promise<{ told: boolean | null; worker: boolean }> {
    return withTimeout(this.page.evaluate(async () => ({
      told: (window as unknown as SoakWindow).__soak?.last?.authenticated ?? null,
      worker: (await window.tokenBroker.status()).authenticated,
    })), `session of tab ${this.id}`);
  }

  drain(): Promise<TabDrain> {
    return withTimeout(this.page.evaluate(drainPage), `drain of tab ${this.id}`);
  }
}
