// RFC 9470's two asks of a route: a recent sign-in (max_age against the token's
// auth_time) and a strong enough one (acr_values against its acr). Pure: the
// broker hands in the verified claims and its own clock.
import type { StepUpRequirement } from '../../sw/protocol';
import { OptionError } from '../core/errors';

export type { StepUpRequirement };

/** The sign-in facts an access token carries (RFC 9068 / OIDC names). */
export interface AuthenticationClaims {
  /** Epoch seconds of the sign-in the token descends from (a refresh keeps it). */
  auth_time?: unknown;
  acr?: unknown;
}

/** A route's requirement as the adopter wrote it, checked once when the route is set up. */
export function checkRequirement(option: string, requirement: StepUpRequirement): StepUpRequirement {
  const { maxAge, acrValues } = requirement;
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0)) throw new OptionError(`${option}.maxAge`, 'must be a whole number of seconds, 0 or more');
  if (acrValues !== undefined) {
    // RFC 9470 joins the values with spaces in the challenge: a value with a space or quote could not be read back.
    if (!Array.isArray(acrValues) || acrValues.length === 0) throw new OptionError(`${option}.acrValues`, 'must be a non-empty list');
    for (const v of acrValues) if (typeof v !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(v)) throw new OptionError(`${option}.acrValues`, `${JSON.stringify(v)} is not a space-free printable value`);
  }
  if (maxAge === undefined && acrValues === undefined) throw new OptionError(option, 'names neither maxAge nor acrValues');
  return { ...(maxAge !== undefined && { maxAge }), ...(acrValues && { acrValues: [...acrValues] }) };
}

/**
 * Whether a token's sign-in meets the requirement. A token without `auth_time`
 * (or `acr`) fails a requirement on it: its sign-in cannot be shown recent.
 * `nowSeconds` is the broker's clock; a sign-in dated in the future (clock step back) counts as age 0.
 */
export function meetsRequirement(claims: AuthenticationClaims, requirement: StepUpRequirement, nowSeconds: number): boolean {
  if (requirement.maxAge !== undefined) {
    const at = claims.auth_time;
    if (typeof at !== 'number' || !Number.isFinite(at)) return false;
    if (nowSeconds - at > requirement.maxAge) return false;
  }
  if (requirement.acrValues !== undefined) {
    if (typeof claims.acr !== 'string' || !requirement.acrValues.includes(claims.acr)) return false;
  }
  return true;
}
