/**
 * The kernel peer's congestion control (perf/lab-bench.ts setKernelCongestionControl,
 * tcp-bench --kernel-cc; decision 0043) without a lab: each route of the peer's namespace is
 * changed in place, keeping every attribute `ip -o route show` printed and replacing a
 * congctl already there, so that `ip route change` finds the same route; 'system' takes the
 * congctl off again (tcp-bench --kernel-cc cubic,system switches between passes).
 */
import { describe, expect, it } from 'vitest';
import { routeWithCongestionControl } from '../../perf/lab-bench.js';

describe('kernel peer congestion control per route', () => {
  it('keeps the route as printed and appends congctl', () => {
    expect(routeWithCongestionControl('10.10.0.0/24 dev eth0 proto kernel scope link src 10.10.0.5 ', 'cubic')).toEqual(
      ['10.10.0.0/24', 'dev', 'eth0', 'proto', 'kernel', 'scope', 'link', 'src', '10.10.0.5', 'congctl', 'cubic']);
    expect(routeWithCongestionControl('default via 10.10.0.1 dev eth0', 'reno')).toEqual(['default', 'via', '10.10.0.1', 'dev', 'eth0', 'congctl', 'reno']);
    expect(routeWithCongestionControl('fd00:10:10::/64 dev eth0 proto kernel metric 256 pref medium', 'cubic')).toEqual(
      ['fd00:10:10::/64', 'dev', 'eth0', 'proto', 'kernel', 'metric', '256', 'pref', 'medium', 'congctl', 'cubic']);
  });

  it('replaces a congctl the route already has, locked or not', () => {
    expect(routeWithCongestionControl('default via 10.10.0.1 dev eth0 congctl cubic', 'bbr')).toEqual(['default', 'via', '10.10.0.1', 'dev', 'eth0', 'congctl', 'bbr']);
    expect(routeWithCongestionControl('10.10.0.0/24 dev eth0 scope link congctl lock reno src 10.10.0.5', 'cubic')).toEqual(
      ['10.10.0.0/24', 'dev', 'eth0', 'scope', 'link', 'src', '10.10.0.5', 'congctl', 'cubic']);
  });

  it('null takes congctl off (the namespace default applies again: `ip route change` replaces the metrics)', () => {
    expect(routeWithCongestionControl('default via 10.10.0.1 dev eth0 congctl cubic ', null)).toEqual(['default', 'via', '10.10.0.1', 'dev', 'eth0']);
    expect(routeWithCongestionControl('10.10.0.0/24 dev eth0 congctl lock cubic scope link', null)).toEqual(['10.10.0.0/24', 'dev', 'eth0', 'scope', 'link']);
  });
});
