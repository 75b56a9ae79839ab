// "Did you mean ...?" for a mistyped worker configuration key. On the server
// and CLI side only: the worker scripts have size budgets, and every path that
// serves or copies a standalone script checks its configuration here first.
import { distance } from 'fastest-levenshtein';
import { DEFAULT_CONFIG } from '../../sw/config';

/**
 * The known key closest to `key` (a dotted path such as `endpoints.logn`), as
 * the full path, when `key` is unknown and one is near enough to be a typo.
 */
export function suggestKey(key: string): string | null {
  const parts = key.split('.');
  const name = parts.pop()!;
  let level: unknown = DEFAULT_CONFIG;
  for (const p of parts) level = (level as Record<string, unknown>)?.[p];
  if (typeof level !== 'object' || level === null || Array.isArray(level)) return null;
  const known = Object.keys(level);
  if (known.includes(name)) return null;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    // Case-insensitive: `apiprefixes` is the same typo as `apiPrefix`.
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best && [...parts, best].join('.');
}
