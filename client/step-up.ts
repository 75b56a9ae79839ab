// The page's typed reading of an RFC 9470 refusal: the worker does not refresh on
// it (a refresh keeps the old sign-in) and marks the response with what the route asked.
import { STEP_UP_HEADER, type StepUpRequirement } from '../sw/protocol';

export type { StepUpRequirement };

/**
 * The route's requirement when `response` is an `insufficient_user_authentication` refusal
 * passed on by the worker, else null. Sign in again (`login()`) to meet it, then retry.
 */
export function stepUpRequirement(response: Response): StepUpRequirement | null {
  const raw = response.headers.get(STEP_UP_HEADER);
  if (raw === null) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { maxAge, acrValues } = parsed as Record<string, unknown>;
    return {
      ...(typeof maxAge === 'number' && { maxAge }),
      ...(Array.isArray(acrValues) && acrValues.every((v) => typeof v === 'string') && { acrValues: acrValues as string[] }),
    };
  } catch {
    return null;
  }
}
