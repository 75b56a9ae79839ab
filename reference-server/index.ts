// `npm start`: the reference server with settings from the environment.
import { startServer } from './app';
import { OptionError } from '../server/entries/index';
import { parseSettings } from './settings';

let server;
try {
  server = await startServer(parseSettings());
} catch (err) {
  // A wrong setting (some, like SIGNING_KEY, show only when used) is the operator's to fix: say which.
  if (!(err instanceof OptionError)) throw err;
  console.error(`Invalid setting ${err.message}`);
  process.exit(2);
}
console.log(`token broker demo on ${server.url}  (sign in as alice / wonderland)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Fastify's close waits for requests in flight, so no rotation is cut in half.
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
