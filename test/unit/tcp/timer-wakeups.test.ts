/**
 * Timer deadlines (src/tcp/timers.ts, the TCP layer's deadline heap in
 * src/tcp/tcp-layer.ts): the time a host asks to be woken at is the earliest deadline of
 * a timer that is really armed, also after the earliest timer moved later. A bulk transfer
 * re-arms the retransmission timer (RFC 6298 5.3; the RFC 8985 probe timeout in the same
 * slot) later on every ACK of new data; a worker that sleeps until Host.nextDeadline()
 * must not wake at the old deadline for nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Host } from '../../../src/iface/host.js';
import { TIMER_SLOTS, TcpTimers } from '../../../src/tcp/timers.js';
import { TcpPair } from '../../helpers/tcp-pair.js';

/** Earliest deadline of a timer really armed on any of the host's connections (scanning every slot). */
function earliestArmed(h: Host): number {
  let e = Infinity;
  for (const c of h.tcp.connections()) {
    for (let t = 0; t < TIMER_SLOTS; t++) e = Math.min(e, c.timers.deadline(t));
  }
  return e;
}

describe('timer wake-ups', () => {
  it('TcpTimers.next() follows the earliest timer when it moves later', () => {
    const t = new TcpTimers();
    t.set(0, 100);
    t.set(2, 300);
    expect(t.next()).toBe(100);
    t.set(0, 500); // re-armed later: the delayed-ACK timer at 300 is now the earliest
    expect(t.next()).toBe(300);
    t.set(2, 400);
    expect(t.next()).toBe(400);
    t.set(2, 50);
    expect(t.next()).toBe(50);
    expect(t.takeDue(49)).toBe(-1);
    expect(t.takeDue(50)).toBe(2);
    expect(t.next()).toBe(500);
  });

  it('a bulk transfer whose ACKs keep moving the RTO later: every wake-up has a timer due', () => {
    // A 32 KiB receive window over 2 × 10 ms: ~1.6 MB/s, so 4 MB take a few seconds of
    // virtual time, many retransmission-timer periods, with the timer pushed on every ACK.
    const pair = new TcpPair({ tcp: { recvBuffer: 32 * 1024 } });
    pair.delay = 10;
    const { server, c } = pair.connect(5000);
    const data = new Uint8Array(4 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >>> 10)) & 0xff;
    let wakeups = 0;
    let forNothing = 0;
    for (const h of [pair.a, pair.b]) {
      const poll = h.poll.bind(h);
      h.poll = (now: number) => {
        if (h.tcp.nextDeadline() <= now) {
          wakeups++;
          if (earliestArmed(h) > now) forNothing++;
        }
        poll(now);
      };
    }
    const t0 = pair.now;
    let sent = 0;
    while (sent < data.length && pair.now - t0 < 60_000) {
      sent += server.send(data.subarray(sent));
      pair.run(pair.now + 50);
      pair.now += 1;
    }
    pair.run(pair.now + 2000);
    expect(c.bytes().equals(data)).toBe(true);
    expect(pair.now - t0).toBeGreaterThan(2000); // many RTO periods (RTO ≥ 200 ms)
    expect(wakeups).toBeGreaterThan(0);
    expect(forNothing).toBe(0);
  });
});
