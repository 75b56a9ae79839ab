// JSON request bodies with a bounded nesting depth. A body nested thousands of
// levels deep parses fine but overflows the stack of whatever walks it next
// (serialising a reply, a validator, the app's own code): refused with a 400
// before any handler runs.
import type { FastifyInstance } from 'fastify';

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

class DepthError extends Error {
  readonly statusCode = 400;
  readonly code = 'FST_ERR_CTP_INVALID_JSON_DEPTH';
}

/** Replaces the JSON parser of `app` (and the plugins registered after this) with one that bounds the depth. */
export function limitJsonDepth(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  // Fastify's own parser, which also refuses __proto__ and constructor.prototype keys.
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (err, value) => {
      if (err) return done(err, undefined);
      if (jsonDepth(value) > maxDepth) return done(new DepthError(`JSON body nested deeper than ${maxDepth} levels`), undefined);
      done(null, value);
    });
  });
}
