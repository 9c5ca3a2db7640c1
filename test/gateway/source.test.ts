/** Per-source limits count an IPv4 address, or an IPv6 /64 (one host's usual share), as one source. */
import test from 'ava';
import { sourceOf } from '../../gateway/source.ts';

test('IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', (t) => {
  t.is(sourceOf('192.0.2.7'), '192.0.2.7');
  t.is(sourceOf('::ffff:192.0.2.7'), '192.0.2.7');
  t.is(sourceOf('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  t.is(sourceOf('2001:db8:1:2::1'), sourceOf('2001:0db8:0001:0002:ffff::9'));
  t.not(sourceOf('2001:db8:1:2::1'), sourceOf('2001:db8:1:3::1'));
  t.is(sourceOf('::1'), '0:0:0:0::/64');
  t.is(sourceOf('2001:db8::'), '2001:db8:0:0::/64');
  t.is(sourceOf(undefined), 'unknown');
});
