// One structured log line per security event: JSON, a fixed `event` key first, only the fields
// the event type declares (a hook handing on an event cannot smuggle a token into the log).
import type { SecurityEvent } from './types';

const FIELDS = ['sub', 'family', 'account', 'failures', 'threshold', 'reason', 'newDevice', 'changed', 'credential'] as const;

export function securityLogLine(event: SecurityEvent, at: number): string {
  const line: Record<string, unknown> = { event: event.type, at: new Date(at).toISOString() };
  const source = event as unknown as Record<string, unknown>;
  for (const field of FIELDS) if (field in source) line[field] = source[field];
  if ('device' in event) {
    line.jkt = event.device.jkt;
    line.ip_prefix = event.device.ipPrefix;
    // A user agent is the client's word: cut short, so one request cannot write a page into the log.
    line.user_agent = event.device.userAgent?.slice(0, 200) ?? null;
  }
  return JSON.stringify(line);
}
