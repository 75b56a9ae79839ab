// The doctor's pure checks, in Node: each rule's edge, without a server.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { checkRefreshCookie } from './cookie-checks';
import { checkRefusal } from './csrf-checks';
import { Results } from './findings';
import { formatText } from './format';
import { checkCsp } from './page-checks';
import { checkScope } from './scope-checks';
import type { Answer } from './snapshot';
import { BUILD_MARKERS, checkWorkerScript, readConfigLine } from './worker-checks';

const answer = (over: Partial<Answer>): Answer => ({ url: 'https://app.example/sw.js', status: 200, headers: {}, setCookies: [], body: '', ...over });
const codes = (r: Results) => r.findings.map((f) => f.code);

test('the build markers tell the built scripts apart (bearer or DPoP, production or development)', () => {
  // npm test builds public/ first.
  const built = (name: string) => readFileSync(`public/${name}`, 'utf8');
  expect(built('sw-dpop.js')).toContain(BUILD_MARKERS.dpop);
  expect(built('sw.js')).not.toContain(BUILD_MARKERS.dpop);
  expect(built('sw.dev.js')).toContain(BUILD_MARKERS.dev);
  expect(built('sw.js')).not.toContain(BUILD_MARKERS.dev);
});

test('Cache-Control: no-cache and max-age=0 pass; a positive max-age, s-maxage or immutable fail; none warns', () => {
  const run = (headers: Record<string, string>) => {
    const r = new Results();
    checkWorkerScript(answer({ headers: { 'content-type': 'text/javascript', ...headers }, body: 'self.tokenBrokerConfig??={};\n' }), [], true, r);
    return codes(r);
  };
  expect(run({ 'cache-control': 'no-cache' })).toEqual([]);
  expect(run({ 'cache-control': 'max-age=0, must-revalidate' })).toEqual([]);
  expect(run({ 'cache-control': 'public, max-age=3600' })).toEqual(['worker_cached']);
  expect(run({ 'cache-control': 'max-age=0, s-maxage=600' })).toEqual(['worker_cached']);
  expect(run({ 'cache-control': 'immutable' })).toEqual(['worker_cached']);
  expect(run({})).toEqual(['worker_cache_unset']);
  expect(run({ expires: new Date(Date.now() + 3600_000).toUTCString() })).toEqual(['worker_cached']);
});

test('the worker script: not JavaScript, a redirect, a bad configuration, dpop: true on the bearer build', () => {
  const run = (over: Partial<Answer>, imported: string[] = []) => {
    const r = new Results();
    checkWorkerScript(answer({ headers: { 'content-type': 'text/javascript', 'cache-control': 'no-cache' }, ...over }), imported, true, r);
    return codes(r);
  };
  expect(run({ headers: { 'content-type': 'text/html', 'cache-control': 'no-cache' }, body: 'self.tokenBrokerConfig??={};' })).toEqual(['worker_not_javascript']);
  expect(run({ status: 302, headers: { location: '/elsewhere' } })).toEqual(['worker_redirect']);
  expect(run({ body: 'self.tokenBrokerConfig??={"apiPrefixes":["/"]};\n' })).toEqual(['worker_config_invalid']);
  expect(run({ body: 'self.tokenBrokerConfig??={"dpop":true};\n(()=>{})()' })).toEqual(['worker_dpop_unsupported']);
  // A wrapper: the configuration set by hand, the build in the script it imports.
  expect(run({ body: "self.tokenBrokerConfig = { dpop: true };\nimportScripts('/sw-dpop.js');" }, [BUILD_MARKERS.dpop])).toEqual(['worker_config_unreadable']);
  expect(run({ body: "importScripts('/sw.js');" }, ['x.tokenBrokerConfig'])).toEqual(['worker_config_missing']);
  expect(run({ body: 'self.addEventListener("fetch", () => {})' })).toEqual(['worker_custom']);
  expect(readConfigLine('self.tokenBrokerConfig??={"persist":"memory"};\nrest')).toEqual({ set: true, config: { persist: 'memory' } });
});

test('scope: the script directory, or Service-Worker-Allowed, must cover the page', () => {
  const run = (script: string, allowed: string | undefined, page: string) => {
    const r = new Results();
    checkScope(script, allowed, page, r);
    return codes(r);
  };
  expect(run('https://app.example/sw.js', undefined, 'https://app.example/')).toEqual([]);
  expect(run('https://app.example/assets/sw.js', undefined, 'https://app.example/')).toEqual(['worker_scope_excludes_page']);
  expect(run('https://app.example/assets/sw.js', '/', 'https://app.example/')).toEqual(['worker_scope_allowed']);
  expect(run('https://app.example/sw.js', 'https://other.example/', 'https://app.example/')).toEqual(['worker_scope_allowed_invalid']);
});

test('a CSRF probe is a refusal only when it is answered otherwise than the worker is', () => {
  const run = (baseline: Partial<Answer>, probe: Partial<Answer>) => {
    const r = new Results();
    checkRefusal('/auth/refresh', 'cross_site', answer(baseline), answer(probe), r);
    return codes(r);
  };
  expect(run({ status: 401, body: '{"error":"invalid_grant"}' }, { status: 403, body: '{"error":"csrf"}' })).toEqual([]);
  expect(run({ status: 200 }, { status: 200 })).toEqual(['csrf_cross_site_accepted']);
  expect(run({ status: 401, body: '{"error":"invalid_grant"}' }, { status: 401, body: '{"error":"invalid_grant"}' })).toEqual(['csrf_unverified']);
  expect(run({ status: 401 }, { status: 500 })).toEqual(['endpoint_server_error']);
});

test('the refresh cookie: MUSTs fail, SHOULDs warn, a prefix the attributes break fails, development is told apart', () => {
  const run = (cookie: string, development = false) => {
    const r = new Results();
    checkRefreshCookie([cookie], development, r);
    return codes(r);
  };
  expect(run('__Host-Http-rt=v; Path=/; HttpOnly; Secure; SameSite=Strict')).toEqual([]);
  expect(run('__Host-Http-rt=v; Path=/; Secure; SameSite=Strict')).toEqual(['cookie_prefix_invalid', 'cookie_not_httponly']);
  expect(run('rt=v; Path=/auth; HttpOnly; SameSite=Lax; Domain=example.com')).toEqual([
    'cookie_not_samesite_strict',
    'cookie_not_secure',
    'cookie_no_host_http_prefix',
    'cookie_path_not_root',
    'cookie_domain_set',
  ]);
  expect(run('__Host-rt=v; Path=/auth; HttpOnly; Secure; SameSite=Strict')).toEqual(['cookie_prefix_invalid', 'cookie_no_host_http_prefix', 'cookie_path_not_root']);
  expect(run('rt=v; Path=/auth; HttpOnly; SameSite=Strict', true)).toEqual(['cookie_development']);
  // A clearing Set-Cookie beside the real one is not taken for it.
  const r = new Results();
  expect(checkRefreshCookie(['old=; Max-Age=0', '__Host-Http-rt=v; Path=/; HttpOnly; Secure; SameSite=Strict'], false, r)?.name).toBe('__Host-Http-rt');
  expect(run('old=; Max-Age=0')).toEqual(['cookie_missing']);
});

test('CSP: none, Report-Only, no script restriction and unsafe script are flagged; nonces make unsafe-inline moot', () => {
  const run = (headers: Record<string, string>, body = '') => {
    const r = new Results();
    checkCsp(answer({ url: 'https://app.example/', headers, body }), r);
    return codes(r);
  };
  expect(run({ 'content-security-policy': "default-src 'self'" })).toEqual([]);
  expect(run({})).toEqual(['no_csp']);
  expect(run({ 'content-security-policy-report-only': "default-src 'self'" })).toEqual(['no_csp']);
  expect(run({ 'content-security-policy': "img-src 'self'" })).toEqual(['csp_no_script_src']);
  expect(run({ 'content-security-policy': "script-src 'self' 'unsafe-inline'" })).toEqual(['csp_unsafe_script']);
  expect(run({ 'content-security-policy': "script-src 'nonce-abc' 'unsafe-inline'" })).toEqual([]);
  expect(run({}, `<meta http-equiv="Content-Security-Policy" content="script-src 'self'">`)).toEqual([]);
});

test('what the deployment answered reaches the terminal without control characters: no escape sequence, forged line or bidi override', () => {
  const r = new Results();
  // A configuration key, after JSON parsing, is whatever the served script says.
  const hostile = 'self.tokenBrokerConfig??={"\\u001b[2J\\u001b[32mok   all good\\n\\u202ecolour":1};\n';
  checkWorkerScript(answer({ headers: { 'content-type': 'text/javascript', 'cache-control': 'no-cache' }, body: hostile }), [], true, r);
  const text = formatText({ url: 'https://app.example/\u001b]8;;x', ok: false, findings: r.findings, passed: r.passed });
  expect(r.findings.map((f) => f.message).join()).toContain('\u001b');
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  expect(text).toContain('\\u001b[2J');
  // Every line of the report is one the doctor wrote: none starts with what the server sent.
  expect(text.split('\n').filter((line) => line.startsWith('ok   all good'))).toEqual([]);
});
