// Starts, kills and restarts the server process, and relays clock steps and
// memory readings to it. A process that exits without being told to is a crash.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Settings } from '../reference-server/settings';
import type { ChildCommand, ChildReport } from './server-child';

export interface ServerProcess {
  url: string | null;
  start(): Promise<string>;
  kill(): Promise<void>;
  setClock(offsetSeconds: number): void;
  memory(): Promise<{ heapUsed: number; rss: number } | null>;
  stop(): Promise<void>;
}

export function serverProcess(script: string, settings: Partial<Settings>, onCrash: (detail: string) => void): ServerProcess {
  let child: ChildProcess | null = null;
  let clockOffset = 0;
  const self: ServerProcess = {
    url: null,
    async start() {
      const started = fork(script, [], {
        execArgv: ['--expose-gc'],
        env: { ...process.env, SOAK_SERVER_SETTINGS: JSON.stringify(settings), SOAK_CLOCK_OFFSET_SECONDS: String(clockOffset) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child = started;
      started.once('exit', (code, signal) => {
        if (child === started) onCrash(`the server exited (code ${code}, signal ${signal})`);
      });
      const [ready] = (await once(started, 'message')) as [ChildReport];
      if (ready.type !== 'ready') throw new Error('the server did not start');
      self.url = ready.url;
      return ready.url;
    },
    async kill() {
      const dying = child;
      child = null;
      self.url = null;
      if (!dying || dying.exitCode !== null) return;
      const exited = once(dying, 'exit');
      dying.kill('SIGKILL');
      await exited;
    },
    setClock(offsetSeconds) {
      clockOffset = offsetSeconds;
      // A process that is being killed takes the offset from its environment when it starts again.
      if (child?.connected) child.send({ type: 'clock', offsetSeconds } satisfies ChildCommand, () => undefined);
    },
    async memory() {
      const current = child;
      // Not while it starts: its first message must be the one that says it is ready.
      if (!current?.connected || !self.url) return null;
      const answer = new Promise<ChildReport | null>((resolve) => {
        current.once('message', resolve);
        current.send({ type: 'memory' } satisfies ChildCommand, (err) => err && resolve(null));
      });
      const report = await Promise.race([answer, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      return report?.type === 'memory' ? { heapUsed: report.heapUsed, rss: report.rss } : null;
    },
    stop: () => self.kill(),
  };
  return self;
}
