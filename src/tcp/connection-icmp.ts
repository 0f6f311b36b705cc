/**
 * ICMP errors about a connection's segments: RFC 1122 4.2.3.9, RFC 5927, RFC 1191.
 *
 * - RFC 5927 4.1 (and Linux tcp_v4_err): the error must quote a segment we sent and that is
 *   not yet acknowledged, its sequence number in SND.UNA ≤ SEG.SEQ < SND.MAX (SND.MAX, not
 *   SND.NXT, which an RTO rewinds); any other is dropped (drop_icmp_error_bad_seq), so a
 *   blind attacker has to guess a sequence number inside the flight.
 * - Fragmentation needed (destination unreachable, code 4): the path MTU towards the peer
 *   goes down (RFC 1191, l3/path-mtu.ts) and so does the MSS, with the flight sent again
 *   at the new size (./connection-mss.ts).
 * - Protocol or port unreachable (codes 2, 3) are hard errors (RFC 1122 4.2.3.9). A
 *   connection still opening ends: an active open with ECONNREFUSED, a passive one in
 *   SYN_RECEIVED silently (the application never saw it; Linux tcp_req_err). In a
 *   synchronized state RFC 5927 4.1 recommends, and Linux without IP_RECVERR does, treating
 *   them as soft errors: a peer that answers ACKs is alive whatever a middlebox says.
 * - ICMPv6 errors (RFC 4443) are read as their ICMP counterparts (icmpv6AsIcmp); a
 *   Packet Too Big never takes the path MTU below 1280 (RFC 8200 5).
 * - Every other unreachable code (network, host, ...), time exceeded and parameter
 *   problem are soft errors (RFC 1122 4.2.3.9: MUST NOT abort): the connection keeps the
 *   latest (tcp_icmp_soft_errors) and ends with it instead of ETIMEDOUT if it times out
 *   (Linux sk_err_soft); an acceptable ACK forgets it (./connection-input.ts).
 */
import {
  ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, ICMP_HOST_UNREACHABLE, ICMP_NET_UNREACHABLE, ICMP_PARAMETER_PROBLEM, ICMP_PORT_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE, ICMP_TIME_EXCEEDED,
} from '../wire/icmp.js';
import { ICMPV6_DEST_UNREACHABLE, ICMPV6_NO_ROUTE, ICMPV6_PACKET_TOO_BIG, ICMPV6_PORT_UNREACHABLE, ICMPV6_TIME_EXCEEDED } from '../wire/icmpv6.js';
import { C } from '../base/counters.js';
import type { TcpErrorCode } from './connection-handle.js';
import type { TcpConnection } from './connection.js';
import { syncMss } from './connection-mss.js';
import { seqGeq, seqLt } from './seq.js';
import { State } from './tcp-state.js';

/**
 * An ICMPv6 error (RFC 4443) as the ICMP type and code that mean the same to TCP, packed
 * `type × 256 + code`: Packet Too Big is "fragmentation needed", Destination Unreachable
 * code 4 port unreachable (hard), code 0 (no route) network unreachable, its other codes
 * host unreachable, Time Exceeded and Parameter Problem themselves (RFC 5927 and Linux
 * tcp_v6_err / icmpv6_err_convert: only port unreachable is a hard error).
 */
export function icmpv6AsIcmp(type: number, code: number): number {
  if (type === ICMPV6_PACKET_TOO_BIG) return ICMP_DEST_UNREACHABLE * 256 + ICMP_FRAG_NEEDED;
  if (type === ICMPV6_DEST_UNREACHABLE) {
    const c = code === ICMPV6_PORT_UNREACHABLE ? ICMP_PORT_UNREACHABLE : code === ICMPV6_NO_ROUTE ? ICMP_NET_UNREACHABLE : ICMP_HOST_UNREACHABLE;
    return ICMP_DEST_UNREACHABLE * 256 + c;
  }
  return (type === ICMPV6_TIME_EXCEEDED ? ICMP_TIME_EXCEEDED : ICMP_PARAMETER_PROBLEM) * 256;
}

/** Unreachable codes about a network (RFC 1122 3.2.2.1: 0, 6, 9, 11); the others name a host or less. */
const NET_CODES = [ICMP_NET_UNREACHABLE, 6, 9, 11];

/**
 * An ICMP error of `type`/`code` quoting our segment with sequence number `seq` in a
 * datagram of `quotedLen` bytes (`nextHopMtu`: the MTU a "fragmentation needed" reports).
 */
export function icmpErrorArrives(
  c: TcpConnection, type: number, code: number, nextHopMtu: number, seq: number, quotedLen: number, now: number,
): void {
  const counters = c.host.counters;
  const snd = c.snd;
  if (c.state === State.CLOSED || c.state === State.TIME_WAIT) return;
  if (!(seqGeq(seq, snd.sndUna) && seqLt(seq, snd.sndMax))) {
    counters[C.drop_icmp_error_bad_seq]++;
    return;
  }
  if (type === ICMP_DEST_UNREACHABLE && code === ICMP_FRAG_NEEDED) {
    // Even when the cache was lowered already (by another connection): this one follows it.
    c.host.pathMtu.lower(c.remoteIp, nextHopMtu, quotedLen, now);
    syncMss(c, now);
    return;
  }
  const hard = type === ICMP_DEST_UNREACHABLE && (code === ICMP_PROTOCOL_UNREACHABLE || code === ICMP_PORT_UNREACHABLE);
  if (hard && c.state === State.SYN_SENT) {
    counters[C.tcp_icmp_hard_errors]++;
    c.terminate('ECONNREFUSED');
    return;
  }
  if (hard && c.state === State.SYN_RECEIVED && c.listenerPort !== 0) {
    counters[C.tcp_icmp_hard_errors]++;
    c.terminate(undefined);
    return;
  }
  counters[C.tcp_icmp_soft_errors]++;
  c.softError = softErrorOf(type, code);
}

/** The error a soft ICMP error stands for (Linux icmp_err_convert's errno). */
function softErrorOf(type: number, code: number): TcpErrorCode {
  if (type === ICMP_PARAMETER_PROBLEM) return 'EPROTO';
  if (type !== ICMP_DEST_UNREACHABLE) return 'EHOSTUNREACH'; // time exceeded
  if (code === ICMP_PORT_UNREACHABLE) return 'ECONNREFUSED';
  if (code === ICMP_PROTOCOL_UNREACHABLE) return 'ENOPROTOOPT';
  return NET_CODES.includes(code) ? 'ENETUNREACH' : 'EHOSTUNREACH';
}
