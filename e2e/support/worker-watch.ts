// Watches every service worker of a Chromium browser over its own CDP
// sessions: uncaught errors and unhandled rejections (which Playwright does not
// report for service workers), and heap use. Sessions are attached without
// flattening, so they live beside Playwright's own and survive the worker
// being stopped and started again (the target stays; only its script reruns).
import type { Browser, CDPSession } from '@playwright/test';

export interface WorkerError {
  at: number;
  url: string;
  text: string;
}

export interface WorkerHeap {
  url: string;
  usedBytes: number;
}

export interface WorkerWatch {
  readonly errors: WorkerError[];
  /** Collects garbage in every live worker, then reads its heap: what it really holds. */
  heaps(): Promise<WorkerHeap[]>;
  close(): Promise<void>;
}

interface TargetInfo {
  targetId: string;
  type: string;
  url: string;
}

interface Attached {
  url: string;
  pending: Map<number, (result: unknown) => void>;
}

export async function watchServiceWorkers(browser: Browser): Promise<WorkerWatch> {
  const cdp: CDPSession = await browser.newBrowserCDPSession();
  const errors: WorkerError[] = [];
  const attached = new Map<string, Attached>();
  let nextId = 1;

  const call = (sessionId: string, method: string, params: object = {}): Promise<unknown> => {
    const target = attached.get(sessionId);
    if (!target) return Promise.resolve(undefined);
    const id = nextId++;
    // A stopped worker answers nothing until it runs again: give up after a while.
    const answer = new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 2000);
      target.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
    });
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(() => target.pending.get(id)?.(undefined));
    return answer;
  };

  const attach = async (info: TargetInfo) => {
    if (info.type !== 'service_worker') return;
    try {
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: info.targetId, flatten: false });
      attached.set(sessionId, { url: info.url, pending: new Map() });
      await call(sessionId, 'Runtime.enable');
    } catch {
      // The worker went away before we could attach: nothing of it to watch.
    }
  };

  cdp.on('Target.targetCreated', (event: { targetInfo: TargetInfo }) => void attach(event.targetInfo));
  cdp.on('Target.detachedFromTarget', (event: { sessionId?: string }) => {
    const target = event.sessionId ? attached.get(event.sessionId) : undefined;
    if (!target) return;
    for (const resolve of target.pending.values()) resolve(undefined);
    attached.delete(event.sessionId!);
  });
  cdp.on('Target.receivedMessageFromTarget', (event: { sessionId: string; message: string }) => {
    const target = attached.get(event.sessionId);
    if (!target) return;
    const message = JSON.parse(event.message) as { id?: number; result?: unknown; method?: string; params?: Record<string, unknown> };
    if (message.id !== undefined) {
      target.pending.get(message.id)?.(message.result);
      target.pending.delete(message.id);
    } else if (message.method === 'Runtime.exceptionThrown') {
      const details = message.params!.exceptionDetails as { text: string; exception?: { description?: string } };
      errors.push({ at: Date.now(), url: target.url, text: `${details.text} ${details.exception?.description ?? ''}`.trim() });
    } else if (message.method === 'Runtime.consoleAPICalled' && message.params!.type === 'error') {
      const args = message.params!.args as { value?: unknown; description?: string }[];
      errors.push({ at: Date.now(), url: target.url, text: `console.error ${args.map((a) => a.description ?? String(a.value)).join(' ')}` });
    }
  });
  await cdp.send('Target.setDiscoverTargets', { discover: true });

  return {
    errors,
    async heaps() {
      const out: WorkerHeap[] = [];
      for (const [sessionId, target] of [...attached]) {
        await call(sessionId, 'HeapProfiler.collectGarbage');
        const usage = (await call(sessionId, 'Runtime.getHeapUsage')) as { usedSize: number } | undefined;
        if (usage) out.push({ url: target.url, usedBytes: usage.usedSize });
      }
      return out;
    },
    async close() {
      await cdp.detach().catch(() => undefined);
    },
  };
}
