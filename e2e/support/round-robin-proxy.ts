// A load balancer in miniature for the multi-instance test: each request goes
// to the next upstream in turn, and the proxy notes which one answered.
import { once } from 'node:events';
import { createServer, request } from 'node:http';

export interface Served {
  method: string;
  path: string;
  upstream: number;
  status: number;
}

export interface RoundRobinProxy {
  url: string;
  served: Served[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(upstreams: string[]): Promise<RoundRobinProxy> {
  const served: Served[] = [];
  let next = 0;
  const server = createServer((req, res) => {
    const upstream = next++ % upstreams.length;
    const target = new URL(upstreams[upstream]!);
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        served.push({ method: req.method ?? '', path: req.url ?? '', upstream, status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
