// The reference server as its own process, so the soak can kill it as a crash
// or a deploy would and start it again on the same store. Its clock can step:
// the soak shifts the broker's injected clock (createTokenBroker's `now`, what
// every server time read goes through) by message, as a wrong system clock
// corrected by NTP would.
import { startServer } from '../reference-server/app';
import type { Settings } from '../reference-server/settings';

export type ChildCommand = { type: 'clock'; offsetSeconds: number } | { type: 'memory' };
export type ChildReport = { type: 'ready'; url: string } | { type: 'memory'; heapUsed: number; rss: number };

let offsetMs = Number(process.env.SOAK_CLOCK_OFFSET_SECONDS ?? 0) * 1000;

const send = (report: ChildReport) => process.send?.(report);

process.on('message', (command: ChildCommand) => {
  if (command.type === 'clock') offsetMs = command.offsetSeconds * 1000;
  if (command.type === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    send({ type: 'memory', heapUsed, rss });
  }
});

const settings = JSON.parse(process.env.SOAK_SERVER_SETTINGS ?? '{}') as Partial<Settings>;
const server = await startServer(settings, { now: () => Date.now() + offsetMs });
send({ type: 'ready', url: server.url });
