// The security event stream: one union type that the hook, the log formatter and the docs share.
// No event carries a token, a cookie or a password; the device is described by its DPoP key's
// thumbprint (public), the client's IP prefix (not its address) and its user agent.

/** What the broker knows of the client a request came from. */
export interface DeviceFacts {
  /** RFC 7638 thumbprint of the request's DPoP key; null for a bearer client. */
  jkt: string | null;
  /** `/24` of an IPv4 address, `/48` of an IPv6 one: enough to tell networks apart, not people. */
  ipPrefix: string;
  userAgent: string | null;
}

/** What makes a device new: its key, or (with `deviceBy`) its network or its browser. */
export type DeviceChange = 'key' | 'ip_prefix' | 'user_agent';

export type SecurityEvent =
  /** A sign-in; `newDevice` when no live family of this `sub` was seen from this device. */
  | { type: 'login'; sub: string; family: string; device: DeviceFacts; newDevice: boolean }
  /** Wrong credentials for one account reached `threshold` within a minute (counted per account key, not per sub). */
  | { type: 'login_failures'; account: string; failures: number; threshold: number; device: DeviceFacts }
  /** A refresh of a live family from another network or browser than the family's last one. */
  | { type: 'new_device'; sub: string; family: string; device: DeviceFacts; changed: DeviceChange[] }
  /** A rotated refresh token came back outside the grace window: a copy exists; the store revoked the family. */
  | { type: 'reuse_detected'; sub: string; family: string; device: DeviceFacts }
  /** A family ended other than by its lifetime. */
  | { type: 'family_revoked'; sub: string; family: string; reason: 'reuse' | 'policy' }
  /** A refresh of a DPoP-bound family proved another key, or none: refused, nothing changed. */
  | { type: 'foreign_key'; sub: string; family: string; device: DeviceFacts }
  /** A passkey was registered to the account (`credential`: its id, public), in the session `family`, from `device`. */
  | { type: 'passkey_added'; sub: string; family: string; credential: string; device: DeviceFacts }
  /** A passkey of the account was removed, in the session `family`, from `device`. */
  | { type: 'passkey_removed'; sub: string; family: string; credential: string; device: DeviceFacts };

export type SecurityEventType = SecurityEvent['type'];

/**
 * What the policy hook may answer: `'notify'` (or nothing) lets the request go on; `'revoke'` ends the
 * family, so the refresh in progress answers 401 `session_revoked` and the worker ends the session.
 */
export type PolicyAction = 'notify' | 'revoke';

export type SecurityPolicy = (event: SecurityEvent) => PolicyAction | void;
