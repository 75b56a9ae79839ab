// Deletes expired and revoked refresh families now and then, so the store
// does not grow with every login ever made.
import type { RefreshStore } from '../server/entries/index';

/** Starts sweeping every `intervalMs` by the broker's clock `now`; returns the stop function. The timer never keeps the process alive. */
export function startSweeper(store: Pick<RefreshStore, 'sweep'>, intervalMs: number, onError: (err: unknown) => void, now: () => number = Date.now): () => void {
  const timer = setInterval(() => {
    store.sweep(now()).catch(onError);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
