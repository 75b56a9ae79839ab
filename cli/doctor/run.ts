// The doctor's HTTP side: asks the deployment what the worker and the page
// would ask it, hands each answer to the pure checks, and returns the report.
import { Results, type Report } from './findings';
import { checkCookieCleared, checkRefreshCookie } from './cookie-checks';
import { checkCrossSiteLogin, checkRefusal } from './csrf-checks';
import { checkNonceChallenge, checkProofRequired, checkTokenBound } from './dpop-checks';
import { proofSigner, type ProofSigner } from './dpop-proof';
import { checkCsp, checkHsts } from './page-checks';
import { RULE } from './rules';
import { checkScope } from './scope-checks';
import { errorCode, isLoopbackHttp, type Answer } from './snapshot';
import { checkWorkerScript, type WorkerFacts } from './worker-checks';

export interface DoctorOptions {
  /** The app's origin (a path is ignored). */
  url: string;
  /** The worker script's path, as the app registers it. */
  worker: string;
  /** A page of the app, for its CSP and the scope. */
  page: string;
  credentials?: { username: string; password: string };
  /** Warnings fail too. */
  strict?: boolean;
  timeoutMs?: number;
}

/** The deployment could not be reached at all (exit status 2). */
export class Unreachable extends Error {}

const WORKER = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };
const IMPORT = /importScripts\(\s*(['"])([^'"]+)\1/g;

export async function runDoctor(options: DoctorOptions): Promise<Report> {
  const origin = new URL(options.url).origin;
  const secure = origin.startsWith('https:');
  const results = new Results();
  const timeout = options.timeoutMs ?? 10_000;

  async function send(path: string, init: RequestInit = {}): Promise<Answer> {
    const url = new URL(path, origin).href;
    let response: Response;
    let body: string;
    try {
      response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeout), ...init });
      // The body too: a connection cut or stalled in the middle of it is as unreachable as none.
      body = await response.text();
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new Unreachable(`${init.method ?? 'GET'} ${url}: ${cause}`);
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    // A followed redirect (the page only) is judged where it ended.
    return { url: response.url || url, status: response.status, headers, setCookies: response.headers.getSetCookie(), body };
  }

  const post = (path: string, headers: Record<string, string>, body = '{}') =>
    send(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const asWorker = { ...WORKER, origin };

  if (secure) results.pass('served over https');
  else if (isLoopbackHttp(new URL(origin))) results.info('development_http', 'plain http on a loopback host (local development): the https-only checks (Secure cookie, HSTS) do not apply');
  else results.fail('not_secure_context', `${origin} is plain http: browsers register service workers only over https (or on localhost)`, RULE.secureContext, 'serve the app over https');

  // The page first: if nothing answers there, nothing else will.
  // As a navigation would: `/` may redirect to the app's page. The worker script may not.
  const page = await send(options.page, { headers: { accept: 'text/html' }, redirect: 'follow' });
  const script = await send(options.worker, { headers: { 'service-worker': 'script' } });
  const imported = await importedScripts(script, send);
  const facts = checkWorkerScript(script, imported, secure, results);
  if (script.status === 200) checkScope(script.url, script.headers['service-worker-allowed'], page.url, results);
  if (page.status >= 400) results.warn('page_not_found', `${options.page} answers ${page.status}: its CSP is not checked`, RULE.csp, 'pass a page of the app with --page');
  else checkCsp(page, results);
  if (secure) checkHsts(page, results);

  await checkEndpoints(facts, post, asWorker, results);
  const sign = facts.dpop ? await proofSigner() : null;
  if (sign) await checkNonces(facts, post, asWorker, sign, results);
  const cleartext = !secure && !isLoopbackHttp(new URL(origin));
  // A password posted over plain http to another machine crosses the network readable.
  if (options.credentials && cleartext) results.info('credentials_not_sent', `the test credentials are not sent to ${origin}: it is plain http and not this machine`);
  else if (options.credentials) await checkSignIn(facts, options.credentials, post, asWorker, sign, secure, results);
  else results.info('no_credentials', 'no test credentials (--user, --password or TOKEN_BROKER_DOCTOR_PASSWORD): the refresh cookie and DPoP binding are not checked');
  return results.report(origin, options.strict);
}

/** Same-origin scripts a wrapper worker imports (importScripts('/sw.js')): the build is in them. */
async function importedScripts(script: Answer, send: (path: string) => Promise<Answer>): Promise<string[]> {
  if (script.status !== 200) return [];
  const urls = [...script.body.matchAll(IMPORT)].map((m) => new URL(m[2]!, script.url)).filter((u) => u.origin === new URL(script.url).origin);
  const answers = await Promise.all(urls.slice(0, 3).map((u) => send(u.pathname)));
  return answers.filter((a) => a.status === 200).map((a) => a.body);
}

type Post = (path: string, headers: Record<string, string>, body?: string) => Promise<Answer>;

async function checkEndpoints(facts: WorkerFacts, post: Post, asWorker: Record<string, string>, results: Results): Promise<void> {
  const crossSite = { 'x-token-broker': '1', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
  const noHeader = { origin: asWorker.origin!, 'sec-fetch-site': 'same-origin' };
  for (const [name, path] of Object.entries(facts.endpoints)) {
    const baseline = await post(path, asWorker);
    if (baseline.status === 404) {
      results.fail('endpoint_not_found', `the ${name} endpoint ${path} answers 404`, RULE.contract, "serve it there, or set the worker's endpoints to where it is");
      continue;
    }
    if (baseline.status >= 500) {
      results.fail('endpoint_server_error', `${path} answers the worker's request with ${baseline.status}`, RULE.contract, 'answer a request without a cookie or credentials with a 4xx');
      continue;
    }
    if (name === 'refresh') checkProofRequired(facts.dpop, baseline, results);
    checkRefusal(path, 'cross_site', baseline, await post(path, crossSite), results);
    checkRefusal(path, 'no_header', baseline, await post(path, noHeader), results);
  }
}

async function checkNonces(facts: WorkerFacts, post: Post, asWorker: Record<string, string>, sign: ProofSigner, results: Results): Promise<void> {
  const url = new URL(facts.endpoints.refresh, asWorker.origin).href;
  checkNonceChallenge(await post(facts.endpoints.refresh, { ...asWorker, dpop: await sign('POST', url) }), results);
}

/** Signs in as the worker would (with a proof, and one retry on a nonce challenge), checks the cookie, signs out. */
async function checkSignIn(
  facts: WorkerFacts,
  credentials: { username: string; password: string },
  post: Post,
  asWorker: Record<string, string>,
  sign: ProofSigner | null,
  httpsRules: boolean,
  results: Results,
): Promise<void> {
  const { login, logout } = facts.endpoints;
  const body = JSON.stringify(credentials);
  checkCrossSiteLogin(login, await post(login, { 'x-token-broker': '1', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body), results);
  let nonce: string | undefined;
  const withProof = async (path: string) => (sign ? { ...asWorker, dpop: await sign('POST', new URL(path, asWorker.origin).href, nonce) } : asWorker);
  let answer = await post(login, await withProof(login), body);
  if (errorCode(answer) === 'use_dpop_nonce' && answer.headers['dpop-nonce']) {
    nonce = answer.headers['dpop-nonce'];
    answer = await post(login, await withProof(login), body);
  }
  if (answer.status !== 200) {
    const code = answer.status === 401 ? 'login_refused' : 'login_failed';
    results.fail(code, `the login with the test credentials answers ${answer.status}${errorCode(answer) ? ` ${errorCode(answer)}` : ''}`, RULE.contract, answer.status === 401 ? 'check the test credentials' : 'make the login answer 200 with the token body and the cookie');
    return;
  }
  results.pass(`signed in as ${credentials.username}`);
  let parsed: { token_type?: unknown } = {};
  try {
    parsed = JSON.parse(answer.body) as typeof parsed;
  } catch {
    results.fail('login_not_json', 'the login answer is not JSON', RULE.contract, 'answer {"access_token", "token_type", "expires_in"}');
  }
  if (sign) checkTokenBound(parsed, results);
  const cookie = checkRefreshCookie(answer.setCookies, !httpsRules, results);
  nonce = answer.headers['dpop-nonce'] ?? nonce;
  const headers = { ...(await withProof(logout)), ...(cookie && { cookie: `${cookie.name}=${encodeURIComponent(cookie.value ?? '')}` }) };
  const out = await post(logout, headers);
  if (out.status >= 300) results.fail('logout_failed', `the logout answers ${out.status}: the test session stays live until it expires`, RULE.logout, 'make the logout revoke the family and answer 200');
  else if (cookie) checkCookieCleared(out.setCookies, cookie.name, results);
}
