// Runs the app's policy hook. Synchronous, so its answer can act on the request in progress;
// a hook that throws, or answers anything but 'revoke', counts as 'notify': a broken hook never
// breaks a login or a refresh. A hook that returns a promise is not awaited (its rejection is caught).
import type { PolicyAction, SecurityEvent, SecurityPolicy } from './types';

export function runPolicy(policy: SecurityPolicy | undefined, event: SecurityEvent, onFailure: (err: unknown) => void): PolicyAction {
  if (!policy) return 'notify';
  try {
    const action: unknown = policy(event);
    if (action instanceof Promise) action.catch(onFailure);
    return action === 'revoke' ? 'revoke' : 'notify';
  } catch (err) {
    onFailure(err);
    return 'notify';
  }
}
