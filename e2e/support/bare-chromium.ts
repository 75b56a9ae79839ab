// A Chromium that nothing debugs but one page, driven over CDP on a pipe. Playwright
// attaches to every service worker, and Chromium never stops a worker that a
// debugger is attached to at idle (e2e/heartbeat.spec.ts shows it): a test of idle
// stops needs a browser where only the page's own session is open.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

export interface WorkerVersion {
  versionId: string;
  runningStatus: string;
  controlledClients?: string[];
}

export interface BarePage {
  /** Evaluates an expression in the page, awaiting a promise; returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  navigate(url: string): Promise<void>;
  /** Every running-status change of the context's service workers, with its time (ms since launch). */
  readonly statuses: { at: number; version: WorkerVersion }[];
  close(): Promise<void>;
}

export async function bareChromium(): Promise<BarePage> {
  const dir = mkdtempSync(join(tmpdir(), 'bare-chromium-'));
  const child = spawn(chromiumPath() ?? 'chromium', [...chromiumArgs, '--headless', '--remote-debugging-pipe', `--user-data-dir=${dir}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
  });
  const out = child.stdio[3] as Writable;
  const input = child.stdio[4] as Readable;
  const t0 = Date.now();
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const statuses: BarePage['statuses'] = [];
  let buffer = '';
  input.setEncoding('utf8');
  input.on('data', (chunk: string) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffer.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { versions: WorkerVersion[] } };
      buffer = buffer.slice(end + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method === 'ServiceWorker.workerVersionUpdated') {
        for (const version of msg.params!.versions) statuses.push({ at: Date.now() - t0, version });
      }
    }
  });
  const send = <T>(method: string, params: object = {}, sessionId?: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      out.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    });

  const { targetId } = await send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
  await send('Page.enable', {}, sessionId);
  await send('ServiceWorker.enable', {}, sessionId);

  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send<{ result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      sessionId,
    );
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    return r.result.value;
  };

  return {
    evaluate,
    statuses,
    async navigate(url) {
      await send('Page.navigate', { url }, sessionId);
      for (let i = 0; i < 150 && (await evaluate<string>('document.readyState').catch(() => '')) !== 'complete'; i++) await new Promise((r) => setTimeout(r, 100));
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
