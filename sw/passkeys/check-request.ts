// The passkey message's own fields, checked in the worker: a step it knows, and the
// browser's response (a JSON object of bounded size) exactly on the steps that post one.
import { DEV } from '../dev';
import { PASSKEY_STEPS, type BrokerError, type PasskeyStep } from '../protocol';

/** The same bound as credentials: a ceremony response is a few kilobytes. */
export const MAX_RESPONSE_BYTES = 16 * 1024;

export function checkPasskeyRequest(step: unknown, response: unknown): { step: PasskeyStep; response?: Record<string, unknown> } | BrokerError {
  if (!PASSKEY_STEPS.includes(step as PasskeyStep)) return { code: 'bad_request', message: DEV ? `broker:passkey needs a step, one of ${PASSKEY_STEPS.join(', ')}` : 'step' };
  const answers = step === 'register' || step === 'step-up' || step === 'remove';
  let size = Infinity;
  try {
    size = JSON.stringify(response)?.length ?? Infinity;
  } catch {
    // cycles, BigInt: refused below
  }
  const plain = typeof response === 'object' && response !== null && !Array.isArray(response) && Object.getPrototypeOf(response) === Object.prototype;
  if (answers ? !plain || size > MAX_RESPONSE_BYTES : response !== undefined) {
    return { code: 'bad_request', message: DEV ? `broker:passkey ${String(step)} ${answers ? "needs the browser's response object" : 'takes no response'}` : 'response' };
  }
  return { step: step as PasskeyStep, ...(answers && { response: response as Record<string, unknown> }) };
}
