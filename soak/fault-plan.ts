// Which fault comes next, and its parameters: pure, from the seeded generator.
// Faults come in rounds, each a shuffle of every kind, so that even a short
// run meets every kind once and a long one meets them in every order.

import type { Random } from './random';

export const FAULT_KINDS = [
  'worker-stop',
  'offline',
  'refresh-5xx',
  'refresh-429',
  'refresh-drop',
  'server-restart',
  'clock-jump',
  'tab-close',
  'hard-reload',
  'worker-update',
  'sign-out-in',
  'redis-down',
  'redis-restart',
] as const;

/** The kinds that need the Redis store. */
export const REDIS_FAULT_KINDS: readonly FaultKind[] = ['redis-down', 'redis-restart'];

export type FaultKind = (typeof FAULT_KINDS)[number];

export type Fault =
  | { kind: 'worker-stop' }
  | { kind: 'offline'; holdMs: number }
  | { kind: 'refresh-5xx'; holdMs: number; status: 500 | 502 | 503 }
  | { kind: 'refresh-429'; holdMs: number; retryAfter: 0 | 1 | 2 }
  /** `before`: the request never reaches the server. `after`: the server rotated and the answer is lost. */
  | { kind: 'refresh-drop'; holdMs: number; when: 'before' | 'after' }
  /** `instance`: which server instance (of several on one Redis) is killed and started again. */
  | { kind: 'server-restart'; downMs: number; instance: number }
  /** Redis killed, and started again on its append-only file after `holdMs`. */
  | { kind: 'redis-down'; holdMs: number }
  /** Redis killed and started again at once, on its append-only file. */
  | { kind: 'redis-restart' }
  /** The server's clock steps by `jumpSeconds`; `offsetSeconds` is where it then stands. */
  | { kind: 'clock-jump'; jumpSeconds: number; offsetSeconds: number }
  | { kind: 'tab-close'; tab: number }
  | { kind: 'hard-reload'; tab: number }
  | { kind: 'worker-update' }
  | { kind: 'sign-out-in'; signOutTab: number; signInTab: number; outMs: number };

export interface PlanLimits {
  tabs: number;
  /** Server instances behind the proxy. */
  instances?: number;
  /** The longest a network or endpoint fault lasts. */
  maxHoldMs: number;
  /** The largest step of the server clock, either way: less than a refresh token's idle life, so a step alone ends no session. */
  maxClockJumpSeconds: number;
  /** The server clock stays within this of the real time. */
  maxClockOffsetSeconds: number;
  /** The calm between two faults. */
  calmMs: [number, number];
  /** The kinds to inject (all by default): to chase one failure. */
  kinds?: readonly FaultKind[];
}

export class FaultPlan {
  #round: FaultKind[] = [];
  #clockOffset = 0;

  constructor(
    private readonly random: Random,
    private readonly limits: PlanLimits,
  ) {}

  /** The server clock's offset from real time after the jumps planned so far, in seconds. */
  get clockOffsetSeconds(): number {
    return this.#clockOffset;
  }

  calm(): number {
    return this.random.int(...this.limits.calmMs);
  }

  next(): Fault {
    if (this.#round.length === 0) this.#round = this.random.shuffle(this.limits.kinds ?? FAULT_KINDS);
    return this.#make(this.#round.shift()!);
  }

  #make(kind: FaultKind): Fault {
    const { random: r, limits } = this;
    const hold = () => r.int(1000, limits.maxHoldMs);
    const tab = () => r.int(0, limits.tabs - 1);
    switch (kind) {
      case 'worker-stop':
      case 'worker-update':
        return { kind };
      case 'offline':
        return { kind, holdMs: hold() };
      case 'refresh-5xx':
        return { kind, holdMs: hold(), status: r.pick([500, 502, 503] as const) };
      case 'refresh-429':
        return { kind, holdMs: hold(), retryAfter: r.pick([0, 1, 2] as const) };
      case 'refresh-drop':
        return { kind, holdMs: hold(), when: r.pick(['before', 'after'] as const) };
      case 'server-restart':
        return { kind, downMs: r.int(200, 5000), instance: r.int(0, (limits.instances ?? 1) - 1) };
      case 'redis-down':
        return { kind, holdMs: hold() };
      case 'redis-restart':
        return { kind };
      case 'clock-jump': {
        const size = r.int(5, limits.maxClockJumpSeconds);
        // Towards the far side of zero when a jump the same way would leave the bound.
        let jump = r.pick([-1, 1]) * size;
        if (Math.abs(this.#clockOffset + jump) > limits.maxClockOffsetSeconds) jump = -jump;
        if (Math.abs(this.#clockOffset + jump) > limits.maxClockOffsetSeconds) jump = -this.#clockOffset;
        this.#clockOffset += jump;
        return { kind, jumpSeconds: jump, offsetSeconds: this.#clockOffset };
      }
      case 'tab-close':
      case 'hard-reload':
        return { kind, tab: tab() };
      case 'sign-out-in':
        return { kind, signOutTab: tab(), signInTab: tab(), outMs: r.int(500, 5000) };
    }
  }
}
