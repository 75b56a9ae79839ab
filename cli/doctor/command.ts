// `token-broker doctor <url>`: flags in, report out, and the exit status a
// deploy can gate on: 0 nothing failed (warnings allowed), 1 something failed,
// 2 a usage error or a deployment that cannot be reached.
import { parseArgs } from 'node:util';
import { exitStatus } from './findings';
import { formatJson, formatText } from './format';
import { runDoctor, Unreachable } from './run';

export const DOCTOR_USAGE = `usage: token-broker doctor <url> [--worker /sw.js] [--page /] [--user <name> --password <pw>] [--json] [--strict]
  Checks a running deployment: the worker script (type, caching, configuration line, build),
  its scope, the token endpoints' CSRF refusals, DPoP nonces, the page's CSP and HSTS, and
  with test credentials the refresh cookie. The password may come from TOKEN_BROKER_DOCTOR_PASSWORD.
  --strict: warnings fail too. Exit status: 0 nothing failed, 1 something failed, 2 usage or unreachable.`;

type Write = (text: string) => void;

export async function doctorCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Write = console.log, err: Write = console.error): Promise<0 | 1 | 2> {
  const usage = (message: string): 2 => {
    err(`token-broker doctor: ${message}\n${DOCTOR_USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        worker: { type: 'string', default: '/sw.js' },
        page: { type: 'string', default: '/' },
        user: { type: 'string', default: env.TOKEN_BROKER_DOCTOR_USER },
        password: { type: 'string', default: env.TOKEN_BROKER_DOCTOR_PASSWORD },
        json: { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { positionals, values } = parsed;
  if (values.help) {
    out(DOCTOR_USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usage('give one URL, the origin of your app');
  let url: URL;
  try {
    url = new URL(positionals[0]!);
  } catch {
    return usage(`not a URL: ${positionals[0]}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return usage(`not an http(s) URL: ${url.href}`);
  for (const [flag, path] of [['--worker', values.worker], ['--page', values.page]] as const) {
    if (!path?.startsWith('/')) return usage(`${flag} must be a path on the app's origin, starting with /`);
  }
  if ((values.user === undefined) !== (values.password === undefined)) return usage('give both --user and --password (or TOKEN_BROKER_DOCTOR_PASSWORD), or neither');
  try {
    const report = await runDoctor({
      url: url.href,
      worker: values.worker!,
      page: values.page!,
      strict: values.strict,
      ...(values.user !== undefined && { credentials: { username: values.user, password: values.password! } }),
    });
    out(values.json ? formatJson(report) : formatText(report));
    return exitStatus(report);
  } catch (e) {
    if (!(e instanceof Unreachable)) throw e;
    err(`token-broker doctor: cannot reach the deployment: ${e.message}`);
    return 2;
  }
}
