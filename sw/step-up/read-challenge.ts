// The worker's reading of an API's RFC 9470 challenge: whether a 401/403 asks
// for a fresh sign-in (then a refresh would not help: it keeps the old
// auth_time, and retrying it would loop), and what the route asked for.
import { INSUFFICIENT_USER_AUTHENTICATION, type StepUpRequirement } from '../protocol';

// One auth-param: name = token / quoted-string (RFC 9110 section 11.2).
const PARAM = /([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+.^_`|~0-9A-Za-z-]+))/g;

/** The requirement of an `insufficient_user_authentication` challenge, or null for any other header. */
export function readStepUpChallenge(header: string | null): StepUpRequirement | null {
  if (!header) return null;
  const params = new Map<string, string>();
  for (const m of header.matchAll(PARAM)) {
    const name = m[1]!.toLowerCase();
    // The first of a name wins: a later challenge's params must not override the one that names the error.
    if (!params.has(name)) params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  }
  if (params.get('error') !== INSUFFICIENT_USER_AUTHENTICATION) return null;
  const requirement: StepUpRequirement = {};
  const maxAge = params.get('max_age');
  if (maxAge !== undefined && /^\d{1,10}$/.test(maxAge)) requirement.maxAge = Number(maxAge);
  const acr = params.get('acr_values')?.split(' ').filter(Boolean);
  if (acr?.length) requirement.acrValues = acr;
  return requirement;
}
