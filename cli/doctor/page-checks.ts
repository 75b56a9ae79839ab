// The app's page: a Content Security Policy (the defence RFC 10017 §5 names
// against the malicious script everything else here only contains), and HSTS
// on https. Pure.
import type { Results } from './findings';
import { RULE } from './rules';
import type { Answer } from './snapshot';

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

const META_CSP = /<meta[^>]+http-equiv=["']?content-security-policy["']?[^>]*content=["']([^"']*)["']/i;

export function checkCsp(answer: Answer, results: Results): void {
  const path = new URL(answer.url).pathname;
  const policy = answer.headers['content-security-policy'] ?? META_CSP.exec(answer.body)?.[1];
  const fix = "send a Content-Security-Policy with script-src 'self' (or nonces/hashes) on every page, as the reference server's STRICT_CSP does";
  if (policy === undefined) {
    const reportOnly = answer.headers['content-security-policy-report-only'] !== undefined;
    results.warn('no_csp', `${path} has no Content-Security-Policy${reportOnly ? ' (only a Report-Only one, which blocks nothing)' : ''}: nothing stops injected script, which can use the worker while it runs`, RULE.csp, fix);
    return;
  }
  const parsed = directives(policy);
  const scripts = parsed.get('script-src') ?? parsed.get('default-src');
  if (!scripts) {
    results.warn('csp_no_script_src', `the Content-Security-Policy of ${path} has neither script-src nor default-src: it does not restrict script`, RULE.csp, fix);
    return;
  }
  const strict = scripts.some((s) => /^'(nonce|sha256|sha384|sha512)-/.test(s));
  const unsafe = scripts.filter((s) => s === "'unsafe-inline'" || s === "'unsafe-eval'");
  // 'unsafe-inline' is ignored by browsers when a nonce or hash is present.
  if (unsafe.includes("'unsafe-eval'") || (unsafe.includes("'unsafe-inline'") && !strict)) {
    results.warn('csp_unsafe_script', `the Content-Security-Policy of ${path} allows ${unsafe.join(' and ')} script`, RULE.csp, fix);
    return;
  }
  results.pass(`${path} has a Content-Security-Policy that restricts script`);
}

export function checkHsts(answer: Answer, results: Results): void {
  const raw = answer.headers['strict-transport-security'];
  const fix = 'send "Strict-Transport-Security: max-age=31536000; includeSubDomains" on https responses';
  if (raw === undefined) {
    results.warn('no_hsts', 'no Strict-Transport-Security header: a first visit over plain http can be intercepted before the redirect to https', RULE.hsts, fix);
    return;
  }
  const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(raw)?.[1] ?? NaN);
  if (!(maxAge > 0)) results.warn('hsts_disabled', `Strict-Transport-Security "${raw}" has no positive max-age`, RULE.hsts, fix);
  else results.pass(`HSTS on (max-age ${maxAge} s)`);
}
