// Which devices a `sub` signed in from, and from where each family last refreshed. Kept in
// process memory, each entry for as long as a family could live (the absolute lifetime), then
// forgotten: a device unseen for that long is new again. Not shared across instances.
import { ExpiringMap } from './expiring-map';
import type { DeviceChange, DeviceFacts } from './types';

export interface DeviceRecognition {
  /** What tells a device apart besides its DPoP key (default both). */
  by: ReadonlyArray<'ip_prefix' | 'user_agent'>;
  /** Milliseconds a device is remembered after it was last seen. */
  rememberMs: number;
}

const MAX_PER_SUB = 20;
/** Accounts and families remembered at once, the least recently seen forgotten first: a flood of logins costs bounded memory. */
export const MAX_REMEMBERED = 100_000;

export class DeviceMemory {
  /** Per sub, its devices (the most recent last) and the deadline each is remembered until. */
  private readonly known: ExpiringMap<Map<string, number>>;
  private readonly families: ExpiringMap<DeviceFacts>;

  constructor(
    private readonly recognition: DeviceRecognition,
    max = MAX_REMEMBERED,
  ) {
    this.known = new ExpiringMap(max);
    this.families = new ExpiringMap(max);
  }

  private keyOf(device: DeviceFacts): string {
    const parts = [device.jkt ?? ''];
    if (this.recognition.by.includes('ip_prefix')) parts.push(device.ipPrefix);
    if (this.recognition.by.includes('user_agent')) parts.push(device.userAgent ?? '');
    return JSON.stringify(parts);
  }

  /** This sub's devices still remembered at `now` (at most MAX_PER_SUB). */
  private devicesOf(sub: string, now: number): Map<string, number> {
    const devices = this.known.get(sub, now) ?? new Map<string, number>();
    for (const [key, until] of devices) if (until <= now) devices.delete(key);
    return devices;
  }

  /** Whether this sub was seen from this device (and still remembered), without recording anything. */
  knows(sub: string, device: DeviceFacts, now: number): boolean {
    const until = this.known.get(sub, now)?.get(this.keyOf(device));
    return until !== undefined && until > now;
  }

  /**
   * A login: `known`, whether this sub was seen from this device before; `others`, whether it was
   * seen from any other (a first sign-in ever is not a new device of a known account).
   */
  login(sub: string, family: string, device: DeviceFacts, now: number): { known: boolean; others: boolean } {
    const devices = this.devicesOf(sub, now);
    const key = this.keyOf(device);
    const known = devices.has(key);
    const others = devices.size > (known ? 1 : 0);
    const until = now + this.recognition.rememberMs;
    devices.delete(key);
    devices.set(key, until);
    // The oldest go first: a sub signing in from ever more devices cannot grow the map without end.
    while (devices.size > MAX_PER_SUB) devices.delete(devices.keys().next().value!);
    this.known.set(sub, devices, until, now);
    this.families.set(family, device, until, now);
    return { known, others };
  }

  /** A refresh: what differs from the family's last device (empty when nothing, or the family is not known here). */
  refresh(family: string, device: DeviceFacts, now: number): DeviceChange[] {
    const last = this.families.get(family, now);
    if (!last) return [];
    const changed: DeviceChange[] = [];
    if (last.jkt !== device.jkt) changed.push('key');
    if (this.recognition.by.includes('ip_prefix') && last.ipPrefix !== device.ipPrefix) changed.push('ip_prefix');
    if (this.recognition.by.includes('user_agent') && last.userAgent !== device.userAgent) changed.push('user_agent');
    this.families.set(family, device, now + this.recognition.rememberMs, now);
    return changed;
  }

  endFamily(family: string): void {
    this.families.delete(family);
  }
}
