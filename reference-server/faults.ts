// Faults answered in place of a route, for tests in engines where the test
// cannot intercept the browser's requests (no `context.route` in WebKit or
// Firefox). Only a `ServerParts` option passed in code, never a setting, so
// no deployment can turn it on.
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface Fault {
  /** The request path (without the query) this fault answers for; '*' for every path (a server out of reach). */
  path: string;
  /** How many requests it answers before the route answers again. */
  times: number;
  /** The answer, or 'drop' to close the connection without one. */
  answer: { status: number; headers?: Record<string, string>; body?: unknown } | 'drop';
  /** Holds the answer until this settles: a slow server, for a request that must still be in flight. */
  until?: Promise<unknown>;
  /** Filled in as the fault answers: how many requests it took. */
  hits?: number;
  /**
   * Filled in when given: the requests it took, headers included. A request a fault answers never reaches its
   * route, so a DPoP proof taken here is still unused: a test can replay it as a thief would.
   */
  taken?: { method: string; url: string; headers: IncomingHttpHeaders }[];
}

export function injectFaults(app: FastifyInstance, faults: Fault[]): void {
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    const fault = faults.find((f) => (f.path === path || f.path === '*') && (f.hits ?? 0) < f.times);
    if (!fault) return;
    fault.hits = (fault.hits ?? 0) + 1;
    fault.taken?.push({ method: request.method, url: request.url, headers: request.headers });
    await fault.until;
    if (fault.answer === 'drop') {
      request.raw.socket.destroy();
      return reply.hijack();
    }
    return reply.code(fault.answer.status).headers(fault.answer.headers ?? {}).send(fault.answer.body ?? null);
  });
}
