/**
 * The connection's segment size (snd.mss) as the path allows it.
 *
 * The handshake settles a ceiling (RFC 9293 3.7.1, RFC 6691: the peer's MSS option, 536
 * without one, and our MTU less 40, less the timestamp option when it is on: `mssCap`).
 * Below it the path MTU towards the peer (l3/path-mtu.ts) decides: RFC 1191 6.4 / RFC
 * 8201 5.4's TCP side, segments no larger than PMTU − 40 − options (− 60 over IPv6). A lower PMTU
 * (an ICMP "fragmentation needed", ./connection-icmp.ts, or black-hole detection here)
 * takes the MSS down and sends what is in flight again at the new size; when the lowered
 * estimate expires (RFC 1191 6.3) the next flush takes the MSS back up. Every connection
 * of the worker follows the cache: when any estimate changes (its generation moves), the
 * next flush of each connection looks its own destination up again (Linux checks the
 * route's MTU on every send, tcp_current_mss), so one ICMP serves every connection to
 * that destination.
 *
 * Black-hole detection (RFC 4821 / RFC 8899, in the simple form of Linux tcp_mtu_probing=1):
 * after pmtuBlackHoleRtos consecutive RTOs with a full-size segment at SND.UNA, the path is
 * assumed to drop large packets silently; its PMTU estimate goes down to 1200 bytes (RFC
 * 8899 BASE_PLPMTU), then to 576 (RFC 1122's default), and expires like any other. There is
 * no probing back up before that expiry, but the reduction is undone when an ACK shows
 * that full-size segments sent before it arrived (a lossy path, not a black hole:
 * confirmBlackHole).
 */
import { C } from '../base/counters.js';
import { isIpv6Id } from '../base/ipv6-interner.js';
import type { TcpConnection } from './connection.js';
import { seqGeq, seqGt, seqLeq, seqLt } from './seq.js';
import { State } from './tcp-state.js';

/** IPv4 and TCP headers without options. */
const HEADERS = 40;
/** What an IPv6 header adds (40 bytes against IPv4's 20, RFC 8200 8.3). */
const IPV6_EXTRA = 20;

/** IP and TCP headers without options towards the connection's peer. */
function headersOf(c: TcpConnection): number {
  return isIpv6Id(c.remoteIp) ? HEADERS + IPV6_EXTRA : HEADERS;
}
/** Bytes of a timestamp option as sent (NOP NOP TS). */
const TS_OPTION_LEN = 12;
/** The PMTU steps of black-hole detection: RFC 8899 BASE_PLPMTU, then RFC 1122's 576. */
const BLACK_HOLE_STEPS = [1200, 576];

/** The MSS the path allows now: min(mssCap, PMTU − 40 − options); notes when to look again. */
export function pathMss(c: TcpConnection, now: number): number {
  const pmtu = c.host.pathMtu;
  const mtu = pmtu.mtuFor(c.remoteIp, now);
  c.pmtuCheckAt = pmtu.expiresAt(c.remoteIp);
  c.pmtuGeneration = pmtu.generation;
  return Math.min(c.mssCap, mtu - headersOf(c) - (c.tsEnabled ? TS_OPTION_LEN : 0));
}

/**
 * Brings snd.mss in line with the path: down (counted tcp_mss_lowered; a synchronized
 * connection sends its flight again at the new size, RFC 1191 6.4) or back up after the
 * estimate expired (tcp_mss_restored).
 */
export function syncMss(c: TcpConnection, now: number): void {
  const mss = Math.max(64, pathMss(c, now));
  const snd = c.snd;
  if (mss < snd.mss) {
    c.host.counters[C.tcp_mss_lowered]++;
    if (synchronized(c.state)) snd.pathMtuReduced(mss, now);
    else snd.changeMss(mss);
  } else if (mss > snd.mss) {
    c.host.counters[C.tcp_mss_restored]++;
    snd.changeMss(mss);
  }
}

/**
 * Before a send or a retransmission timeout: syncMss when the estimate behind snd.mss
 * expired (RFC 1191 6.3) or the cache changed since (another connection's ICMP).
 */
export function followPathMtu(c: TcpConnection, now: number): void {
  if (now >= c.pmtuCheckAt || c.pmtuGeneration !== c.host.pathMtu.generation) syncMss(c, now);
}

/**
 * Called on a retransmission timeout before the sender handles it: the RTO that makes
 * pmtuBlackHoleRtos in a row with a full-size segment at SND.UNA lowers the PMTU one step
 * (see the header), so the retransmission goes out at the smaller size.
 */
export function detectBlackHole(c: TcpConnection, now: number): void {
  const limit = c.host.config.pmtuBlackHoleRtos;
  const snd = c.snd;
  if (limit <= 0 || snd.lossProbeArmed || snd.retries + 1 < limit || snd.buf.length < snd.mss) return;
  if ((snd.retries + 1 - limit) % limit !== 0) return; // one step per `limit` RTOs
  const pmtu = c.host.pathMtu;
  const cur = pmtu.mtuFor(c.remoteIp, now);
  const opts = c.tsEnabled ? TS_OPTION_LEN : 0;
  const step = BLACK_HOLE_STEPS.find((m) => m < cur && m - headersOf(c) - opts < snd.mss);
  if (step === undefined) return;
  pmtu.reduce(c.remoteIp, step, now);
  c.host.counters[C.tcp_pmtu_black_holes]++;
  c.blackHole ??= { prevMtu: cur, high: snd.sndMax };
  syncMss(c, now);
}

/** A black-hole reduction under watch: the PMTU before it, and SND.MAX when it was made. */
export interface BlackHoleSuspect {
  prevMtu: number;
  high: number;
}

/**
 * Before an ACK is processed, while a black-hole reduction is under watch: an ACK beyond
 * SND.NXT covers bytes sent before the reduction's RTO rewound SND.NXT and not sent again
 * since, so at the larger size — they arrived, the path carries them and the losses were
 * something else (on a lossy path three RTOs in a row come from lost retransmissions and
 * lost ACKs). The estimate goes back to what it was (tcp_pmtu_black_hole_undos) and the
 * MSS with it. The watch ends once the ACK passes what was sent before the reduction.
 */
export function confirmBlackHole(c: TcpConnection, ack: number, now: number): void {
  const bh = c.blackHole;
  if (bh === null) return;
  const snd = c.snd;
  if (seqGt(ack, snd.sndNxt) && seqLeq(ack, snd.sndMax) && seqLt(snd.sndNxt, bh.high)) {
    c.blackHole = null;
    c.host.pathMtu.restore(c.remoteIp, bh.prevMtu, now);
    c.host.counters[C.tcp_pmtu_black_hole_undos]++;
    syncMss(c, now);
    return;
  }
  if (seqGeq(ack, bh.high)) c.blackHole = null;
}

/** States in which data flows (the sequence space past the SYN). */
function synchronized(st: State): boolean {
  return st === State.ESTABLISHED || st === State.CLOSE_WAIT || st === State.FIN_WAIT_1 || st === State.CLOSING || st === State.LAST_ACK;
}
