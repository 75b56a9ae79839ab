import { expect, test } from '@playwright/test';
import { outageSummary, Tally } from './report';

test("refresh attempts are counted per refresh outage, the browser's own resends apart, and a rate is given only for outages of 10 s or more", () => {
  const tally = new Tally();
  tally.refreshAttempted(); // outside any outage: not counted
  tally.outageStarted('refresh-5xx', 0);
  for (let i = 0; i < 4; i++) tally.refreshAttempted();
  tally.outageEnded(2_000);
  tally.outageStarted('refresh-drop', 10_000);
  for (let i = 0; i < 6; i++) tally.refreshAttempted();
  tally.refreshAttempted(true);
  tally.refreshAttempted(true);
  tally.outageEnded(30_000);
  tally.outageEnded(31_000); // no outage open: nothing recorded
  expect(tally.outages).toEqual([
    { kind: 'refresh-5xx', ms: 2_000, attempts: 4, resends: 0 },
    { kind: 'refresh-drop', ms: 20_000, attempts: 6, resends: 2 },
  ]);
  expect(outageSummary(tally.outages)).toEqual({ count: 2, resends: 2, perMinuteOfLongOnes: { count: 1, median: 18, max: 18 }, most: { attempts: 6, seconds: 20 } });
  expect(outageSummary([])).toEqual({ count: 0, resends: 0, perMinuteOfLongOnes: { count: 0, median: 0, max: 0 }, most: null });
});
