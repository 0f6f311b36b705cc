/**
 * The socket API's address text (socket/socket-addresses.ts, decision 0030): IPv4 and
 * IPv4-mapped text for the core's addresses, and the sharing of IPv4 text between sockets
 * (issue 8 item 3: an idle connection's socket holds no string of its own for our address
 * or for a client's that many connections share).
 */
import { describe, expect, it } from 'vitest';
import { SocketAddresses } from '../../../src/socket/socket-addresses.js';
import { parseIpv4 } from '../../../src/wire/addresses.js';

describe('SocketAddresses', () => {
  it('formats IPv4 and IPv4-mapped text, and hands the same string to sockets that need the same text', () => {
    const a = new SocketAddresses(null);
    const ours = parseIpv4('10.10.0.4');
    const c1 = parseIpv4('10.10.0.3');
    const c2 = parseIpv4('10.10.0.5');
    const first = a.format(ours);
    expect(first).toBe('10.10.0.4');
    // Sockets from two clients, alternating: each reads its peer's text and ours.
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      seen.push(a.format(i % 2 === 0 ? c1 : c2));
      expect(Object.is(a.format(ours), first)).toBe(true);
    }
    expect(seen).toEqual(['10.10.0.3', '10.10.0.5', '10.10.0.3', '10.10.0.5', '10.10.0.3', '10.10.0.5']);
    expect(a.format(c1, true)).toBe('::ffff:10.10.0.3');
    expect(a.format(c1)).toBe('10.10.0.3');
    expect(Object.is(a.format(c1, true), a.format(c1, true))).toBe(true);
  });
});
