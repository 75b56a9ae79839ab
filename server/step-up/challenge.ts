// RFC 9470 section 3: the 401 an API route answers when the token is valid but
// its sign-in does not meet the route's requirement. The requirement rides in
// the challenge (max_age, acr_values) so the worker can hand it to the page.
import { errorResponse, type BrokerHttpResponse } from '../core/http';
import { INSUFFICIENT_USER_AUTHENTICATION, type StepUpRequirement } from '../../sw/protocol';

/** `scheme` is the one the token was presented with (Bearer or DPoP). Values were checked by `checkRequirement`. */
export function stepUpChallenge(scheme: 'Bearer' | 'DPoP', requirement: StepUpRequirement): string {
  const params = [`error="${INSUFFICIENT_USER_AUTHENTICATION}"`, 'error_description="A more recent or stronger authentication is required"'];
  if (requirement.acrValues) params.push(`acr_values="${requirement.acrValues.join(' ')}"`);
  if (requirement.maxAge !== undefined) params.push(`max_age="${requirement.maxAge}"`);
  return `${scheme} ${params.join(', ')}`;
}

export function stepUpRequired(scheme: 'Bearer' | 'DPoP', requirement: StepUpRequirement): BrokerHttpResponse {
  return errorResponse(401, INSUFFICIENT_USER_AUTHENTICATION, 'This operation needs a more recent or stronger sign-in', {
    'www-authenticate': stepUpChallenge(scheme, requirement),
  });
}
