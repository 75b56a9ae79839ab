// Which devices a `sub` signed in from, and from where each family last refreshed. Kept in
// process memory, each entry for as long as a family could live (the absolute lifetime), then
// forgotten: a device unseen for that long is new again. Not shared across instances.
import type { DeviceChange, DeviceFacts } from './types';

export interface DeviceRecognition {
  /** What tells a device apart besides its DPoP key (default both). */
  by: ReadonlyArray<'ip_prefix' | 'user_agent'>;
  /** Milliseconds a device is remembered after it was last seen. */
  rememberMs: number;
}

const MAX_PER_SUB = 20;

export class DeviceMemory {
  private readonly known = new Map<string, Map<string, number>>();
  private readonly families = new Map<string, { device: DeviceFacts; until: number }>();

  constructor(private readonly recognition: DeviceRecognition) {}

  private keyOf(device: DeviceFacts): string {
    const parts = [device.jkt ?? ''];
    if (this.recognition.by.includes('ip_prefix')) parts.push(device.ipPrefix);
    if (this.recognition.by.includes('user_agent')) parts.push(device.userAgent ?? '');
    return JSON.stringify(parts);
  }

  /** Whether this sub was seen from this device (and still remembered), without recording anything. */
  knows(sub: string, device: DeviceFacts, now: number): boolean {
    const until = this.known.get(sub)?.get(this.keyOf(device));
    return until !== undefined && until > now;
  }

  /**
   * A login: `known`, whether this sub was seen from this device before; `others`, whether it was
   * seen from any other (a first sign-in ever is not a new device of a known account).
   */
  login(sub: string, family: string, device: DeviceFacts, now: number): { known: boolean; others: boolean } {
    this.forget(now);
    const devices = this.known.get(sub) ?? new Map<string, number>();
    const key = this.keyOf(device);
    const known = devices.has(key);
    const others = devices.size > (known ? 1 : 0);
    devices.delete(key);
    devices.set(key, now + this.recognition.rememberMs);
    // The oldest go first: a sub signing in from ever more devices cannot grow the map without end.
    while (devices.size > MAX_PER_SUB) devices.delete(devices.keys().next().value!);
    this.known.set(sub, devices);
    this.families.set(family, { device, until: now + this.recognition.rememberMs });
    return { known, others };
  }

  /** A refresh: what differs from the family's last device (empty when nothing, or the family is not known here). */
  refresh(family: string, device: DeviceFacts, now: number): DeviceChange[] {
    const last = this.families.get(family);
    if (!last || last.until <= now) return [];
    const changed: DeviceChange[] = [];
    if (last.device.jkt !== device.jkt) changed.push('key');
    if (this.recognition.by.includes('ip_prefix') && last.device.ipPrefix !== device.ipPrefix) changed.push('ip_prefix');
    if (this.recognition.by.includes('user_agent') && last.device.userAgent !== device.userAgent) changed.push('user_agent');
    this.families.set(family, { device, until: now + this.recognition.rememberMs });
    return changed;
  }

  endFamily(family: string): void {
    this.families.delete(family);
  }

  private forget(now: number): void {
    for (const [family, entry] of this.families) if (entry.until <= now) this.families.delete(family);
    for (const [sub, devices] of this.known) {
      for (const [key, until] of devices) if (until <= now) devices.delete(key);
      if (devices.size === 0) this.known.delete(sub);
    }
  }
}
