// The network a client IP belongs to: /24 for IPv4, /48 for IPv6. An event names the
// network, never the address, so a log of events is not a log of people's addresses.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export function ipPrefix(ip: string): string {
  // node:net is strict (ipaddr.js also takes '10.1' and hex); ipaddr.js knows the forms a valid one can take.
  if (isIP(ip) === 0) return 'unknown';
  const parsed = ipaddr.process(ip);
  if (parsed.kind() === 'ipv4') return `${(parsed as ipaddr.IPv4).octets.slice(0, 3).join('.')}.0/24`;
  return `${(parsed as ipaddr.IPv6).parts.slice(0, 3).map((p) => p.toString(16)).join(':')}::/48`;
}
