// DPoP as the server runs it, judged against the worker that was found: a
// bearer worker before a server that requires proofs signs nobody in; a DPoP
// worker before a server that does not bind tokens protects nothing; nonces
// bound how long a proof signed in advance stays usable. Pure.
import type { Results } from './findings';
import { RULE } from './rules';
import { errorCode, type Answer } from './snapshot';

/** A refresh without a proof (and without a cookie): a server that requires DPoP refuses the missing proof first. */
export function checkProofRequired(workerDpop: boolean | null, answer: Answer, results: Results): void {
  if (workerDpop === false && answer.status === 400 && errorCode(answer) === 'invalid_dpop_proof') {
    results.fail('dpop_required_worker_bearer', 'the server requires DPoP proofs, but the worker script is a bearer one: nobody can sign in', RULE.dpopBuild, 'serve sw-dpop.js (check --worker names the script the app registers), or let the server take bearer tokens');
  }
}

/** A refresh with a proof that has no nonce: with nonces on, RFC 9449 §8's use_dpop_nonce and a DPoP-Nonce header. */
export function checkNonceChallenge(answer: Answer, results: Results): void {
  const nonce = answer.headers['dpop-nonce'];
  if (errorCode(answer) === 'use_dpop_nonce') {
    if (nonce) results.pass('the server demands its DPoP nonce (use_dpop_nonce with a DPoP-Nonce header)');
    else results.fail('dpop_nonce_header_missing', 'the server answers use_dpop_nonce without a DPoP-Nonce header: the worker cannot retry', RULE.dpopNonce, 'send the nonce in a DPoP-Nonce header with the challenge');
    return;
  }
  results.warn(
    'dpop_nonce_off',
    `a proof without a nonce is taken (${answer.status}${errorCode(answer) ? ` ${errorCode(answer)}` : ''}): script that ran in the page can sign proofs in advance and use them later, within the iat window`,
    RULE.dpopNonce,
    'demand server nonces (token-broker/server: dpopNonce: true, the default; the reference server: DPOP_NONCE=true)',
  );
}

/** A login with a proof must answer a DPoP-bound token. */
export function checkTokenBound(body: { token_type?: unknown }, results: Results): void {
  if (typeof body.token_type === 'string' && body.token_type.toLowerCase() === 'dpop') results.pass('a login with a DPoP proof gets a DPoP-bound token');
  else {
    results.fail('dpop_not_bound', `a login with a DPoP proof gets token_type ${JSON.stringify(body.token_type)}: the worker signs proofs, but a stolen token works anywhere`, RULE.dpopBinding, "bind tokens to the proof's key (token-broker/server: dpop: 'optional' or 'required')");
  }
}
