// The soak's figures: counted as the run goes, summarised at its end as JSON
// and as a Markdown table (docs/soak.md holds one of a 30-minute run).
import type { FaultKind } from './fault-plan';
import type { Invariants, PageResult, Violation } from './invariants';

export class Tally {
  readonly requests: Record<string, number> = {};
  /** What pages got other than a success, by kind. */
  readonly failures: Record<string, number> = {};
  readonly faults: Partial<Record<FaultKind, number>> = {};
  /** Refresh requests on the wire, by the answer the browser got. */
  readonly refreshes: Record<string, number> = {};
  logins = 0;
  /** Tabs that saw a new worker version take control. */
  takeovers = 0;
  /**
   * Each refresh outage (5xx, 429, dropped): how long it lasted, how many
   * refreshes the worker started meanwhile, and how many the browser's network
   * stack sent again on its own (a resend is not the worker's cool-down failing).
   */
  readonly outages: { kind: string; ms: number; attempts: number; resends: number }[] = [];
  #outage: { kind: string; from: number; attempts: number; resends: number } | null = null;

  outageStarted(kind: string, at: number): void {
    this.#outage = { kind, from: at, attempts: 0, resends: 0 };
  }

  outageEnded(at: number): void {
    if (this.#outage) {
      const { kind, from, attempts, resends } = this.#outage;
      this.outages.push({ kind, ms: at - from, attempts, resends });
    }
    this.#outage = null;
  }

  refreshAttempted(resent = false): void {
    if (!this.#outage) return;
    if (resent) this.#outage.resends++;
    else this.#outage.attempts++;
  }

  page(r: PageResult): void {
    this.requests[r.method] = (this.requests[r.method] ?? 0) + 1;
    if (r.status >= 200 && r.status < 300) return;
    const kind = r.status === 0 ? 'network error' : `${r.status}${r.code ? ` ${r.code}` : ''}`;
    this.failures[kind] = (this.failures[kind] ?? 0) + 1;
  }

  fault(kind: FaultKind): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  refresh(outcome: string): void {
    this.refreshes[outcome] = (this.refreshes[outcome] ?? 0) + 1;
  }
}

export interface SoakReport {
  seed: number;
  store: string;
  instances: number;
  plannedSeconds: number;
  ranSeconds: number;
  tabs: number;
  machine: { cpus: number; memoryGb: number; node: string; chromium: string };
  requests: { total: number; byMethod: Record<string, number> };
  pageFailures: Record<string, number>;
  pageUnauthorized: Record<string, number>;
  faults: Partial<Record<FaultKind, number>>;
  refreshes: Record<string, number>;
  /** Refresh attempts the worker started during refresh outages: its cool-down at work. */
  outageRefreshes: {
    count: number;
    /** The browser's own resends of a refresh during those outages, not counted as attempts. */
    resends: number;
    /** Per minute, over the outages of 10 s or more. */
    perMinuteOfLongOnes: { count: number; median: number; max: number };
    /** The outage with the most attempts. */
    most: { attempts: number; seconds: number } | null;
  };
  logins: number;
  /** Tabs that saw a new worker version take control. */
  takeovers: number;
  sessions: { started: number; endedBy: Record<string, number>; lost: number };
  recoveryMs: Record<string, { count: number; median: number; max: number }>;
  memory: { serverHeapMb: [number, number] | null; workerHeapMb: [number, number] | null };
  violations: Violation[];
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

export function recoverySummary(invariants: Invariants): SoakReport['recoveryMs'] {
  const byKind = new Map<string, number[]>();
  for (const { kind, ms } of invariants.recoveries) byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
  return Object.fromEntries([...byKind].map(([kind, ms]) => [kind, { count: ms.length, median: median(ms), max: Math.max(...ms) }]));
}

export function outageSummary(outages: Tally['outages']): SoakReport['outageRefreshes'] {
  // A rate over a few seconds is mostly the first refresh's own quick retries: only outages of 10 s or more give one.
  const long = outages.filter((o) => o.ms >= 10_000).map((o) => Math.round((o.attempts * 60_000) / o.ms));
  const most = outages.reduce<Tally['outages'][number] | null>((m, o) => (m === null || o.attempts > m.attempts ? o : m), null);
  return {
    count: outages.length,
    resends: outages.reduce((n, o) => n + o.resends, 0),
    perMinuteOfLongOnes: { count: long.length, median: median(long), max: Math.max(0, ...long) },
    most: most && { attempts: most.attempts, seconds: Math.round(most.ms / 100) / 10 },
  };
}

export function sessionSummary(invariants: Invariants, started: number): SoakReport['sessions'] {
  const endedBy: Record<string, number> = {};
  for (const { why } of invariants.sessionEnds) endedBy[why] = (endedBy[why] ?? 0) + 1;
  return { started, endedBy, lost: invariants.violations.filter((v) => v.invariant === 'session-lost').length };
}

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || 'none';

export function markdown(report: SoakReport): string {
  const mb = (pair: [number, number] | null) => (pair ? `${pair[0]} → ${pair[1]} MB` : 'too few samples');
  const lines = [
    `Seed ${report.seed}, store ${report.store}, ${report.instances} instance(s), ${report.tabs} tabs, ${Math.round(report.ranSeconds)} s ` +
      `(${report.machine.cpus} CPUs, Node ${report.machine.node}, Chromium ${report.machine.chromium})`,
    '',
    row(['figure', 'value']),
    row(['---', '---']),
    row(['API requests by pages', `${report.requests.total} (${list(report.requests.byMethod)})`]),
    row(['what pages got besides a success', list(report.pageFailures)]),
    row(['401s seen by pages, by why', list(report.pageUnauthorized)]),
    row(['faults injected', list(report.faults)]),
    row(['refreshes on the wire, by answer', list(report.refreshes)]),
    row([
      "refresh attempts by the worker in refresh outages: per minute of those of 10 s or more (median, max); the most in one; the browser's own resends, apart",
      `${report.outageRefreshes.perMinuteOfLongOnes.median}, ${report.outageRefreshes.perMinuteOfLongOnes.max} (${report.outageRefreshes.perMinuteOfLongOnes.count} of ${report.outageRefreshes.count} outages); ` +
        (report.outageRefreshes.most ? `${report.outageRefreshes.most.attempts} in ${report.outageRefreshes.most.seconds} s` : 'none') +
        `; resends: ${report.outageRefreshes.resends}`,
    ]),
    row(['sign-ins', report.logins]),
    row(['tabs that saw a new worker version take control', report.takeovers]),
    row(['sessions: ended by', list(report.sessions.endedBy)]),
    row(['sessions lost', report.sessions.lost]),
    row(['server heap (first third → last third, medians after GC)', mb(report.memory.serverHeapMb)]),
    row(['worker heap (same)', mb(report.memory.workerHeapMb)]),
    row(['violations', report.violations.length]),
    '',
    row(['fault', 'count', 'recovery median (ms)', 'recovery max (ms)']),
    row(['---', '---', '---', '---']),
    ...Object.entries(report.recoveryMs).map(([kind, r]) => row([kind, r.count, r.median, r.max])),
  ];
  return lines.join('\n');
}
