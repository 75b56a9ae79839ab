// The security events' pure parts: IP prefixes, device recognition, failure runs, the log line, the policy runner.
import { expect, test } from '@playwright/test';
import { DeviceMemory } from './devices';
import { LoginFailures } from './failures';
import { ipPrefix } from './ip-prefix';
import { securityLogLine } from './log-line';
import { runPolicy } from './policy';
import type { DeviceFacts, SecurityEvent } from './types';

const day = 86_400_000;
const device = (over: Partial<DeviceFacts> = {}): DeviceFacts => ({ jkt: 'key-a', ipPrefix: '198.51.100.0/24', userAgent: 'Chrome', ...over });

test('an IP prefix is the /24 of IPv4 (also mapped into IPv6) and the /48 of IPv6; anything else is unknown', () => {
  expect(ipPrefix('198.51.100.77')).toBe('198.51.100.0/24');
  expect(ipPrefix('::ffff:198.51.100.77')).toBe('198.51.100.0/24');
  expect(ipPrefix('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
  expect(ipPrefix('2001:0db8::1')).toBe('2001:db8:0::/48');
  expect(ipPrefix('::1')).toBe('0:0:0::/48');
  // An IPv4 tail and a zone are IPv6 forms too.
  expect(ipPrefix('64:ff9b:1::198.51.100.7')).toBe('64:ff9b:1::/48');
  expect(ipPrefix('fe80::1%eth0')).toBe('fe80:0:0::/48');
  expect(ipPrefix('not an ip')).toBe('unknown');
  expect(ipPrefix('10.1')).toBe('unknown');
});

test('a login from a device the sub used before is known; another key, network or browser is new', () => {
  const memory = new DeviceMemory({ by: ['ip_prefix', 'user_agent'], rememberMs: 30 * day });
  expect(memory.login('alice', 'f1', device(), 0)).toEqual({ known: false, others: false });
  expect(memory.login('alice', 'f2', device(), 1000)).toEqual({ known: true, others: false });
  expect(memory.login('alice', 'f3', device({ jkt: 'key-b' }), 2000)).toEqual({ known: false, others: true });
  expect(memory.login('alice', 'f4', device({ ipPrefix: '203.0.113.0/24' }), 3000).known).toBe(false);
  expect(memory.login('alice', 'f5', device({ userAgent: 'Firefox' }), 4000).known).toBe(false);
  // Another sub's devices are its own.
  expect(memory.login('bob', 'f6', device(), 5000)).toEqual({ known: false, others: false });
});

test('without deviceBy, only the DPoP key tells devices apart', () => {
  const memory = new DeviceMemory({ by: [], rememberMs: day });
  memory.login('alice', 'f1', device(), 0);
  expect(memory.login('alice', 'f2', device({ ipPrefix: '203.0.113.0/24', userAgent: 'Firefox' }), 1).known).toBe(true);
  expect(memory.refresh('f2', device({ ipPrefix: '192.0.2.0/24' }), 2)).toEqual([]);
});

test('a device unseen for longer than it is remembered is new again: nothing is kept for ever', () => {
  const memory = new DeviceMemory({ by: ['ip_prefix'], rememberMs: day });
  memory.login('alice', 'f1', device(), 0);
  expect(memory.login('alice', 'f2', device(), day + 1)).toEqual({ known: false, others: false });
  expect(memory.refresh('f1', device({ ipPrefix: '203.0.113.0/24' }), 2 * day + 2)).toEqual([]);
});

test("a refresh names what changed since the family's last request, and then remembers the new one", () => {
  const memory = new DeviceMemory({ by: ['ip_prefix', 'user_agent'], rememberMs: day });
  memory.login('alice', 'f1', device(), 0);
  expect(memory.refresh('f1', device(), 1)).toEqual([]);
  expect(memory.refresh('f1', device({ ipPrefix: '203.0.113.0/24', userAgent: 'Firefox' }), 2)).toEqual(['ip_prefix', 'user_agent']);
  expect(memory.refresh('f1', device({ ipPrefix: '203.0.113.0/24', userAgent: 'Firefox' }), 3)).toEqual([]);
  expect(memory.refresh('unknown-family', device(), 4)).toEqual([]);
});

test('login failures fire once, at the threshold, within the window; a success ends the run', () => {
  const failures = new LoginFailures(3, 60_000);
  expect([failures.fail('alice', 0), failures.fail('alice', 1), failures.fail('alice', 2), failures.fail('alice', 3)]).toEqual([null, null, 3, null]);
  expect(failures.fail('alice', 60_001)).toBeNull();
  failures.succeed('alice');
  expect([failures.fail('alice', 60_002), failures.fail('alice', 60_003), failures.fail('alice', 60_004)]).toEqual([null, null, 3]);
});

test('the log line is JSON with the event first and only the declared fields', () => {
  const event = { type: 'reuse_detected', sub: 'alice', family: 'f1', device: device({ userAgent: 'x'.repeat(500) }), token: 'secret-token' } as SecurityEvent;
  const line = securityLogLine(event, 0);
  expect(line.startsWith('{"event":"reuse_detected"')).toBe(true);
  expect(line).not.toContain('secret-token');
  expect(JSON.parse(line)).toEqual({ event: 'reuse_detected', at: '1970-01-01T00:00:00.000Z', sub: 'alice', family: 'f1', jkt: 'key-a', ip_prefix: '198.51.100.0/24', user_agent: 'x'.repeat(200) });
});

test('the policy runner: revoke is revoke; nothing, anything else, a throw or a promise is notify', async () => {
  const event: SecurityEvent = { type: 'foreign_key', sub: 'alice', family: 'f1', device: device() };
  const failures: unknown[] = [];
  const onFailure = (err: unknown) => failures.push(err);
  expect(runPolicy(undefined, event, onFailure)).toBe('notify');
  expect(runPolicy(() => 'revoke', event, onFailure)).toBe('revoke');
  expect(runPolicy(() => undefined, event, onFailure)).toBe('notify');
  expect(runPolicy(() => 'delete-everything' as never, event, onFailure)).toBe('notify');
  expect(runPolicy(() => { throw new Error('hook broke'); }, event, onFailure)).toBe('notify');
  expect(runPolicy((() => Promise.reject(new Error('late'))) as never, event, onFailure)).toBe('notify');
  await new Promise((r) => setTimeout(r, 0));
  expect(failures.map((e) => (e as Error).message)).toEqual(['hook broke', 'late']);
});
