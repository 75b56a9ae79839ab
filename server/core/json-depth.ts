// JSON request bodies with a bounded nesting depth. A body nested thousands of
// levels deep parses fine but overflows the stack of whatever walks it next
// (serialising a reply, a validator, the app's own code): the adapters refuse
// it with a 400 before any handler runs.

/** Deeper than any credentials or API payload needs; far from any stack limit. */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a parsed JSON value (a scalar is 0), walked without recursion. */
export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const inner = depth + 1;
    if (inner > max) max = inner;
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, inner]);
  }
  return max;
}

/** Thrown by the adapters' JSON parsers; a 400 with the usual JSON error. */
export class JsonDepthError extends Error {
  readonly statusCode = 400;
  readonly status = 400;
  constructor(maxDepth = MAX_JSON_DEPTH) {
    super(`JSON body nested deeper than ${maxDepth} levels`);
  }
}
