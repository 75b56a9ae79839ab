// An API on another origin (another loopback port) for the cross-engine
// scenarios: it answers every CORS request with 200 and keeps the headers the
// broker's worker sent, so a scenario can read the proofs it made for an
// `apiOrigins` API.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CorsApi {
  url: string;
  taken: { method: string; url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startCorsApi(): Promise<CorsApi> {
  const taken: CorsApi['taken'] = [];
  const server = createServer((req, res) => {
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'access-control-allow-headers': 'authorization, dpop, content-type', vary: 'origin' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST' }).end();
      return;
    }
    taken.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, taken, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
