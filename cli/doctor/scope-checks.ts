// The worker's scope: the script's directory, or what its Service-Worker-Allowed
// header allows; the app's page must be inside it or the worker never controls
// it (the client's bad_scope). Pure.
import type { Results } from './findings';
import { RULE } from './rules';

export function checkScope(scriptUrl: string, allowed: string | undefined, pageUrl: string, results: Results): void {
  const script = new URL(scriptUrl);
  let max = new URL('./', script);
  if (allowed !== undefined) {
    let widened: URL;
    try {
      widened = new URL(allowed, script);
    } catch {
      return results.fail('worker_scope_allowed_invalid', `Service-Worker-Allowed "${allowed}" is not a URL path`, RULE.swScope, 'send a path such as "/", or no header');
    }
    if (widened.origin !== script.origin) {
      return results.fail('worker_scope_allowed_invalid', `Service-Worker-Allowed "${allowed}" names another origin: registration fails`, RULE.swScope, 'send a path on this origin, or no header');
    }
    max = widened;
    results.info(
      'worker_scope_allowed',
      `the worker script is served with Service-Worker-Allowed: ${allowed} (max scope ${max.pathname}); send that header on this script only, since any script served with it can be registered with that scope`,
      RULE.swScope,
    );
  }
  const page = new URL(pageUrl);
  if (page.pathname.startsWith(max.pathname)) results.pass(`scope ${max.pathname} covers the page ${page.pathname}`);
  else {
    results.fail('worker_scope_excludes_page', `the worker's scope can be at most ${max.pathname}, which does not cover the page ${page.pathname}`, RULE.swScope, 'serve the worker script from the site root (copy-sw public), or send "Service-Worker-Allowed: /" with it and register with that scope');
  }
}
