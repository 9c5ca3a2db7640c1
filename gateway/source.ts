/**
 * Who is asking, for per-source limits (wrong operator secrets, new pending meters):
 * an IPv4 address, or an IPv6 /64 — one host usually holds a whole /64 (RFC 4291
 * §2.5.1, SLAAC), so counting IPv6 addresses one by one would give a single attacker
 * 2⁶⁴ fresh allowances. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) counts as the IPv4 address.
 */
import { isIPv6 } from 'node:net';

export function sourceOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':') + '::/64';
}
