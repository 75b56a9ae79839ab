// The broker's side of the security events: turns what a login or refresh learned into typed
// events, writes each as a log line, hands it to the policy and says what the policy decided.
// Events name only a sub the request proved it holds (a refresh cookie of that family, or the
// account's password); an anonymous request can raise nothing but `login_failures` about the
// account name it typed.
import { header, type BrokerHttpRequest } from '../core/http';
import { DeviceMemory } from './devices';
import { LoginFailures } from './failures';
import { ipPrefix } from './ip-prefix';
import { securityLogLine } from './log-line';
import { runPolicy } from './policy';
import type { DeviceFacts, PolicyAction, SecurityEvent, SecurityPolicy } from './types';

export interface SecurityEventOptions {
  /** Called synchronously for every event; answer `'revoke'` to end the family (see PolicyAction). */
  policy?: SecurityPolicy;
  /** Receives one JSON line per event (and per failed hook); nothing is logged by default. */
  log?: (line: string) => void;
  /** Wrong passwords for one account within a minute that raise `login_failures` (default 5). */
  loginFailureThreshold?: number;
  /** What, besides the DPoP key, makes a device new (default both). */
  deviceBy?: ReadonlyArray<'ip_prefix' | 'user_agent'>;
}

export class SecurityEvents {
  private readonly devices: DeviceMemory;
  private readonly failures: LoginFailures;

  constructor(
    private readonly options: SecurityEventOptions,
    private readonly clock: () => number,
    rememberMs: number,
  ) {
    this.devices = new DeviceMemory({ by: options.deviceBy ?? ['ip_prefix', 'user_agent'], rememberMs });
    this.failures = new LoginFailures(options.loginFailureThreshold ?? 5);
  }

  private device(request: BrokerHttpRequest, jkt: string | null): DeviceFacts {
    return { jkt, ipPrefix: ipPrefix(request.ip), userAgent: header(request, 'user-agent') ?? null };
  }

  private write(line: string): void {
    // A failing logger must not fail the request either.
    try {
      this.options.log?.(line);
    } catch {
      /* the line is lost; the request goes on */
    }
  }

  /** One log line for a hook of the app's that failed: the request goes on. */
  private failed(event: 'policy_failed' | 'hook_failed', about: Record<string, string>, err: unknown): void {
    this.write(JSON.stringify({ event, at: new Date(this.clock()).toISOString(), ...about, message: err instanceof Error ? err.message : String(err) }));
  }

  private raise(event: SecurityEvent): PolicyAction {
    this.write(securityLogLine(event, this.clock()));
    return runPolicy(this.options.policy, event, (err) => this.failed('policy_failed', { for: event.type }, err));
  }

  /** Whether `sub` signed in from the request's device before (for the lifetime policy); records nothing. */
  knownDevice(sub: string, request: BrokerHttpRequest, jkt: string | null): { known: boolean; device: DeviceFacts } {
    const device = this.device(request, jkt);
    return { known: this.devices.knows(sub, device, this.clock()), device };
  }

  /** A failed app hook other than the policy (the lifetime policy): one log line, the request goes on. */
  hookFailed(hook: string, err: unknown): void {
    this.failed('hook_failed', { hook }, err);
  }

  loginFailed(account: string, request: BrokerHttpRequest, jkt: string | null): void {
    const failures = this.failures.fail(account, this.clock());
    if (failures !== null) this.raise({ type: 'login_failures', account, failures, threshold: this.failures.threshold, device: this.device(request, jkt) });
  }

  /** The policy's answer to the login, or to its `new_device` when the account knew other devices. */
  login(account: string, sub: string, family: string, request: BrokerHttpRequest, jkt: string | null): PolicyAction {
    this.failures.succeed(account);
    const device = this.device(request, jkt);
    const { known, others } = this.devices.login(sub, family, device, this.clock());
    const onLogin = this.raise({ type: 'login', sub, family, device, newDevice: !known });
    if (known || !others) return onLogin;
    const changed = jkt ? (['key'] as const) : [];
    const onNew = this.raise({ type: 'new_device', sub, family, device, changed: [...changed] });
    return onLogin === 'revoke' || onNew === 'revoke' ? 'revoke' : 'notify';
  }

  refreshed(sub: string, family: string, request: BrokerHttpRequest, jkt: string | null): PolicyAction {
    const device = this.device(request, jkt);
    const changed = this.devices.refresh(family, device, this.clock());
    if (changed.length === 0) return 'notify';
    const action = this.raise({ type: 'new_device', sub, family, device, changed });
    if (action === 'revoke') this.revoked(sub, family, 'policy');
    return action;
  }

  reused(sub: string, family: string, request: BrokerHttpRequest, jkt: string | null): void {
    this.raise({ type: 'reuse_detected', sub, family, device: this.device(request, jkt) });
    this.revoked(sub, family, 'reuse');
  }

  foreignKey(sub: string, family: string, request: BrokerHttpRequest, jkt: string | null): PolicyAction {
    const action = this.raise({ type: 'foreign_key', sub, family, device: this.device(request, jkt) });
    if (action === 'revoke') this.revoked(sub, family, 'policy');
    return action;
  }

  /** A passkey added to or removed from `sub`'s account in the session `family`: the policy's answer. */
  passkey(change: 'added' | 'removed', sub: string, family: string, credential: string, request: BrokerHttpRequest, jkt: string | null): PolicyAction {
    const action = this.raise({ type: change === 'added' ? 'passkey_added' : 'passkey_removed', sub, family, credential, device: this.device(request, jkt) });
    if (action === 'revoke') this.revoked(sub, family, 'policy');
    return action;
  }

  private revoked(sub: string, family: string, reason: 'reuse' | 'policy'): void {
    this.devices.endFamily(family);
    this.raise({ type: 'family_revoked', sub, family, reason });
  }
}
