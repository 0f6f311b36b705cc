/**
 * Lost retransmissions after a burst loss longer than the ring of remembered
 * retransmissions (src/tcp/recovery/lost-retransmit.ts). Seen in the lab (tcp-bench
 * --loss 3): the client's veth GROs ~45 segments into one packet, nftables drops the
 * aggregate, SACK recovery retransmits all 45, and one of those retransmissions is lost
 * too. Every RTO of a 50 MB download had that shape: the lost retransmission had fallen
 * out of a ring of 32 before the SACKs showed it lost, and only the RTO resent it.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../../src/base/counters.js';
import { burstLossTransfer, PAIR_SEG } from '../../../helpers/burst-loss.js';

describe('lost retransmissions after a burst loss (RFC 6675 recovery + Linux tcp_mark_lost_retrans; RACK, RFC 8985 6.2, by time)', () => {
  for (const [recovery, lostCopy] of [['rfc6675', 3], ['rfc6675', 10], ['rfc6675', 40], ['rack', 3], ['rack', 10], ['rack', 40]] as const) {
    it(`${recovery}: 45 segments lost at once and the retransmission of the ${lostCopy + 1}th lost again: resent without an RTO`, () => {
      const plan = { start: 700 * PAIR_SEG, segments: 45, copiesDropped: new Map([[lostCopy, 2]]) };
      const { p, intact, copies, burst } = burstLossTransfer(3_000_000, plan, { sendBuffer: 1 << 22, recovery });
      expect(intact).toBe(true);
      expect(burst).toHaveLength(45);
      expect(copies.get(burst[lostCopy])).toBe(3);
      expect(p.countersA[C.tcp_lost_retransmits]).toBeGreaterThanOrEqual(1);
      expect(p.countersA[C.tcp_rto_timeouts]).toBe(0);
    });
  }
});
