// Between the browser and the server, as a load balancer would be: it spreads
// requests round robin over the instances that are up, stays up while they
// restart (answering 502 while none is), injects the refresh
// endpoint's failures, and reports every token exchange and API request to
// the invariants, which is how the soak sees what went over the wire.
import { parse as parseCookies } from 'cookie';
import { decodeJwt } from 'jose';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RefreshExchange } from './invariants';

export interface WireObserver {
  login(at: number, status: number, sid: string | null): void;
  logout(at: number): void;
  /** `resent`: the same request again (the same DPoP proof), as Chromium's network stack resends one after a connection reset. */
  refreshStarted(at: number, resent: boolean): void;
  refreshEnded(exchange: RefreshExchange): void;
  apiSent(at: number, sid: string | null, postId: string | null): void;
  apiAnswered(at: number, status: number, postId: string | null): void;
  /** The request could not reach the server at all: it was not sent. */
  apiUnsent(postId: string | null): void;
}

export type RefreshFault = { kind: 'status'; status: number; retryAfter: number | null } | { kind: 'drop'; when: 'before' | 'after' } | null;

export interface FaultProxy {
  url: string;
  /** The instances, round robin; an entry is null while that instance is down. */
  upstreams: (string | null)[];
  refreshFault: RefreshFault;
  /** The network is down: every connection is reset, open ones at once. */
  setBlackout(on: boolean): void;
  close(): Promise<void>;
}

type Kind = 'refresh' | 'login' | 'logout' | 'api' | 'other';

function kindOf(path: string): Kind {
  if (path === '/auth/refresh') return 'refresh';
  if (path === '/auth/login') return 'login';
  if (path === '/auth/logout') return 'logout';
  return path.startsWith('/api/') ? 'api' : 'other';
}

function sidOf(token: string | undefined): string | null {
  if (!token) return null;
  try {
    const sid = decodeJwt(token).sid;
    return typeof sid === 'string' ? sid : null;
  } catch {
    return null;
  }
}

function parse(body: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function errorCode(body: Record<string, unknown> | null): string | null {
  const error = body?.error;
  if (typeof error === 'string') return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : null;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFaultProxy(observer: WireObserver): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let blackout = false;
  let turn = 0;
  // Every refresh's DPoP proof (each is signed once): one seen again is the same request sent again.
  const proofs = new Set<string>();
  const proxy: FaultProxy = {
    url: '',
    upstreams: [],
    refreshFault: null,
    setBlackout(on) {
      blackout = on;
      if (on) for (const socket of sockets) socket.destroy();
    },
    close: async () => undefined,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (blackout) return void req.socket.destroy();
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const kind = kindOf(path);
    let body: Buffer;
    try {
      body = await readAll(req);
    } catch {
      return; // the browser went away mid-upload
    }
    const start = Date.now();
    const proof = kind === 'refresh' ? req.headers.dpop : undefined;
    const resent = typeof proof === 'string' && proofs.has(proof);
    const cookieless = kind === 'refresh' && !Object.keys(parseCookies(req.headers.cookie ?? '')).some((name) => name.endsWith('broker_rt'));
    if (typeof proof === 'string') {
      if (proofs.size > 10_000) proofs.clear();
      proofs.add(proof);
    }
    const refreshEnded = (x: Partial<RefreshExchange>) =>
      observer.refreshEnded({ start, end: Date.now(), status: 0, code: null, reason: null, sid: null, answerLost: false, injected: false, resent, cookieless, ...x });
    if (kind === 'refresh') observer.refreshStarted(start, resent);

    const fault = kind === 'refresh' ? proxy.refreshFault : null;
    if (fault?.kind === 'status') {
      // A 429 says when to come back; a failing server usually says nothing.
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== null && { 'retry-after': String(fault.retryAfter) }) });
      res.end(JSON.stringify({ error: { code: 'injected', message: 'injected by the soak' } }));
      return refreshEnded({ status: fault.status, injected: true });
    }
    if (fault?.kind === 'drop' && fault.when === 'before') {
      req.socket.destroy();
      return refreshEnded({ status: 0 });
    }

    const postId = kind === 'api' && req.method === 'POST' ? String(parse(body)?.id ?? '') || null : null;
    const live = proxy.upstreams.filter((u): u is string => u !== null);
    const upstream = live.length ? live[turn++ % live.length]! : null;
    if (!upstream) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'bad_gateway', message: 'the server is restarting' } }));
      if (kind === 'refresh') refreshEnded({ status: 502, injected: true });
      return;
    }
    if (kind === 'api') observer.apiSent(start, sidOf(req.headers.authorization?.split(' ')[1]), postId);

    const target = new URL(upstream);
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers });
    const answer = await new Promise<IncomingMessage | null>((resolve) => {
      let answered = false;
      forward.on('response', (answer) => {
        answered = true;
        resolve(answer);
      });
      forward.on('error', (err: NodeJS.ErrnoException) => {
        // Once the answer has begun, its reader sees the failure.
        if (answered) return;
        if (kind === 'api') {
          if (err.code === 'ECONNREFUSED') observer.apiUnsent(postId);
          else observer.apiAnswered(Date.now(), 0, postId);
        }
        if (kind === 'refresh') refreshEnded({ status: 502, injected: true });
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'bad_gateway', message: String(err.code) } }));
        resolve(null);
      });
      forward.end(body);
    });
    if (!answer) return;
    const answerBody = await readAll(answer).catch(() => null);
    const status = answer.statusCode ?? 0;
    if (answerBody === null) {
      // The server died while answering.
      if (kind === 'api') observer.apiAnswered(Date.now(), 0, postId);
      if (kind === 'refresh') refreshEnded({ status: 502, injected: true });
      res.destroy();
      return;
    }
    const json = kind === 'api' || kind === 'other' ? null : parse(answerBody);
    const sid = sidOf(typeof json?.access_token === 'string' ? json.access_token : undefined);
    if (kind === 'refresh') {
      const lost = fault?.kind === 'drop';
      const message = json?.message;
      const reason = typeof message === 'string' ? (/refresh token is (\w+)|already (used)/.exec(message)?.slice(1).find(Boolean) ?? null) : null;
      if (lost) req.socket.destroy();
      refreshEnded({ status, code: errorCode(json), reason, sid, answerLost: lost });
      if (lost) return;
    }
    if (kind === 'login') observer.login(Date.now(), status, sid);
    if (kind === 'logout') observer.logout(Date.now());
    if (kind === 'api') observer.apiAnswered(Date.now(), status, postId);
    const headers = { ...answer.headers, 'content-length': String(answerBody.length) };
    delete headers['transfer-encoding'];
    res.writeHead(status, headers);
    res.end(answerBody);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    if (blackout) return void socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  };
  return proxy;
}
