import { expect, test } from '@playwright/test';
import { FAULT_KINDS, FaultPlan, type Fault, type PlanLimits } from './fault-plan';
import { seededRandom } from './random';

const LIMITS: PlanLimits = { tabs: 3, maxHoldMs: 20_000, maxClockJumpSeconds: 30, maxClockOffsetSeconds: 45, calmMs: [2000, 8000] };

function faults(seed: number, n: number, limits = LIMITS): Fault[] {
  const plan = new FaultPlan(seededRandom(seed), limits);
  return Array.from({ length: n }, () => plan.next());
}

test('the same seed plans the same faults; another seed, others', () => {
  expect(faults(7, 40)).toEqual(faults(7, 40));
  expect(faults(7, 40)).not.toEqual(faults(8, 40));
});

test('every round meets every kind once', () => {
  const planned = faults(3, FAULT_KINDS.length * 4).map((f) => f.kind);
  for (let round = 0; round < 4; round++) {
    expect(new Set(planned.slice(round * FAULT_KINDS.length, (round + 1) * FAULT_KINDS.length))).toEqual(new Set(FAULT_KINDS));
  }
});

test('only the kinds asked for, when asked', () => {
  expect(new Set(faults(5, 10, { ...LIMITS, kinds: ['offline', 'clock-jump'] }).map((f) => f.kind))).toEqual(new Set(['offline', 'clock-jump']));
});

test('holds, tabs and clock steps stay within their limits over a long run', () => {
  let offset = 0;
  for (const fault of faults(11, 2000)) {
    if ('holdMs' in fault) {
      expect(fault.holdMs).toBeGreaterThanOrEqual(1000);
      expect(fault.holdMs).toBeLessThanOrEqual(LIMITS.maxHoldMs);
    }
    if ('tab' in fault) expect(fault.tab).toBeLessThan(LIMITS.tabs);
    if (fault.kind === 'clock-jump') {
      expect(Math.abs(fault.jumpSeconds)).toBeLessThanOrEqual(LIMITS.maxClockOffsetSeconds);
      offset += fault.jumpSeconds;
      expect(fault.offsetSeconds).toBe(offset);
      expect(Math.abs(offset)).toBeLessThanOrEqual(LIMITS.maxClockOffsetSeconds);
    }
  }
});

test('calm periods stay within their range', () => {
  const plan = new FaultPlan(seededRandom(1), LIMITS);
  for (let i = 0; i < 500; i++) {
    const calm = plan.calm();
    expect(calm).toBeGreaterThanOrEqual(2000);
    expect(calm).toBeLessThanOrEqual(8000);
  }
});
