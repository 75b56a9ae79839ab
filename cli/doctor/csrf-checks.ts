// Whether a token endpoint refused a request the worker would never send: one
// from another site, or one without the static header. A refusal is told from
// the endpoint's ordinary answer by comparing with the same request sent as
// the worker sends it. Pure.
import type { Results } from './findings';
import { RULE } from './rules';
import { errorCode, type Answer } from './snapshot';

export type Probe = 'cross_site' | 'no_header';

const WHAT: Record<Probe, string> = {
  cross_site: 'a cross-site request (Origin: https://evil.example, Sec-Fetch-Site: cross-site)',
  no_header: 'a request without the x-token-broker header',
};

export function checkRefusal(endpoint: string, probe: Probe, baseline: Answer, answer: Answer, results: Results): void {
  const code = probe === 'cross_site' ? 'csrf_cross_site_accepted' : 'csrf_header_not_required';
  const rule = probe === 'cross_site' ? RULE.csrf : RULE.csrfHeader;
  const fix =
    probe === 'cross_site'
      ? "refuse token-endpoint requests whose Sec-Fetch-Site is not same-origin, or whose Origin is another (token-broker/server's endpoints do)"
      : 'require x-token-broker: 1 on every token-endpoint request (a proxy must not add it)';
  if (answer.status >= 500) {
    results.fail('endpoint_server_error', `${endpoint} answers ${WHAT[probe]} with ${answer.status}`, RULE.contract, 'refuse it with a 403 instead of failing');
    return;
  }
  if (answer.status < 400) {
    results.fail(code, `${endpoint} accepts ${WHAT[probe]} (${answer.status})`, rule, fix);
    return;
  }
  const same = answer.status === baseline.status && errorCode(answer) === errorCode(baseline);
  if (!same) {
    results.pass(`${endpoint} refuses ${WHAT[probe]} (${answer.status}${errorCode(answer) ? ` ${errorCode(answer)}` : ''})`);
    return;
  }
  results.warn(
    'csrf_unverified',
    `${endpoint} answers ${WHAT[probe]} as it answers the worker's (${answer.status}): the doctor cannot tell a refusal from the endpoint's own answer`,
    rule,
    `${fix}; give test credentials (--user) to check it with a real login`,
  );
}

/** The decisive version, with credentials: a login from another site must not sign anyone in. */
export function checkCrossSiteLogin(endpoint: string, answer: Answer, results: Results): void {
  if (answer.status < 300 || answer.setCookies.length > 0) {
    results.fail('csrf_cross_site_accepted', `${endpoint} signs in ${WHAT.cross_site} with the test credentials (${answer.status})`, RULE.csrf, 'refuse token-endpoint requests whose Sec-Fetch-Site is not same-origin, or whose Origin is another');
  } else {
    results.pass(`${endpoint} refuses a cross-site login with valid credentials (${answer.status})`);
  }
}
