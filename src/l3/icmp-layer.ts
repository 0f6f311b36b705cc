/**
 * ICMP for IPv4: echo replies and the errors this host originates.
 *
 * RFC 792 (message formats), RFC 1122 3.2.2 (a host must not send an ICMP error about an
 * ICMP error, a broadcast/multicast datagram, or a non-initial fragment; 3.2.2.6: echo
 * reply carries the request's data unchanged; a broadcast echo request may be ignored,
 * which Linux does by default), RFC 1812 4.3.2.3/4.3.2.8 (quote as much of the offending
 * datagram as fits in 576 bytes; rate-limit errors).
 *
 * Errors received (destination unreachable, time exceeded, parameter problem) go to the
 * transport that sent the datagram they quote (RFC 1122 3.2.2.1–3.2.2.5: the quoted
 * header identifies it; 4.2.3.9 and 4.1.3.3 say what TCP and UDP do), after checks
 * (RFC 5927 4: the quote must be an IPv4 header from our address with the first 8 bytes
 * of its payload; drop_icmp_error_quote) and within a per-worker rate limit
 * (icmp_errors_rate_limited) that bounds the work a flood of forged errors can cause.
 */
import { internetChecksum } from '../wire/checksum.js';
import {
  ICMP_DEST_UNREACHABLE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_FRAG_NEEDED, ICMP_HEADER_LEN, ICMP_PARAMETER_PROBLEM,
  ICMP_TIME_EXCEEDED, echoRequestToReply, icmpCode, icmpNextHopMtu, icmpType, setIcmpChecksum,
} from '../wire/icmp.js';
import {
  IPPROTO_ICMP, IPV4_MIN_HEADER, ipFragmentOffset, ipHeaderLength, ipProtocol, ipSrc, ipTotalLength,
} from '../wire/ipv4.js';
import { C, type Counters } from '../base/counters.js';
import { copyBytes } from '../util/copy-bytes.js';
import type { Ipv4Output } from './ipv4-output.js';
import { TokenBucket } from './token-bucket.js';

/** Most bytes of an ICMP error datagram (RFC 1812 4.3.2.3). */
const ICMP_ERROR_MAX_DATAGRAM = 576;

/** Error rate limit: per worker, 100 per second with a burst of 50 (cf. Linux icmp_msgs_per_sec/burst). */
export const ICMP_ERROR_RATE = { perSecond: 100, burst: 50 };

/**
 * Received errors handed to the transports: per worker, 500 per second with a burst of
 * 100 (far above what a real path sends; a flood beyond it is counted and dropped).
 */
export const ICMP_ERROR_INPUT_RATE = { perSecond: 500, burst: 100 };

/** Bytes of the quoted datagram's payload an error must carry (RFC 792: 64 bits; the ports and, for TCP, the sequence number). */
const QUOTED_L4_MIN = 8;

/** A transport's receiver of ICMP errors about datagrams it sent (registered per IP protocol). */
export interface TransportErrorInput {
  /**
   * An ICMP error of `type` and `code` (`nextHopMtu`: the MTU field of "fragmentation
   * needed", else 0) quotes at b[q..q+qLen) a datagram we sent: an IPv4 header from our
   * address, checked to be whole, and at least 8 bytes of its payload.
   */
  icmpError(type: number, code: number, nextHopMtu: number, b: Uint8Array, q: number, qLen: number, now: number): void;
}

/** ICMP input and output for one worker. */
export class IcmpLayer {
  private readonly errorLimiter = new TokenBucket(ICMP_ERROR_RATE.perSecond, ICMP_ERROR_RATE.burst);
  private readonly errorInputLimiter = new TokenBucket(ICMP_ERROR_INPUT_RATE.perSecond, ICMP_ERROR_INPUT_RATE.burst);
  /** Receivers of errors by the quoted datagram's IP protocol. */
  private readonly errorInputs: Array<TransportErrorInput | undefined> = [];

  /** @param ourIp our address: the source every quoted datagram must have */
  constructor(private readonly ip: Ipv4Output, private readonly counters: Counters, private readonly ourIp: number) {}

  /** Hands errors that quote a datagram of IP protocol `protocol` to `input` from now on. */
  registerErrorInput(protocol: number, input: TransportErrorInput): void {
    this.errorInputs[protocol] = input;
  }

  /**
   * Handles an ICMP message whose IPv4 header starts at b[ipOff] (total length `ipLen`,
   * header length `hlen`). `toBroadcast` is true when it was sent to a broadcast address.
   */
  input(b: Uint8Array, ipOff: number, hlen: number, ipLen: number, src: number, toBroadcast: boolean, now: number): void {
    this.counters[C.icmp_rx]++;
    const o = ipOff + hlen;
    const len = ipLen - hlen;
    if (len < ICMP_HEADER_LEN) {
      this.counters[C.drop_icmp_truncated]++;
      return;
    }
    if (internetChecksum(b, o, len) !== 0) {
      this.counters[C.drop_icmp_checksum]++;
      return;
    }
    const type = icmpType(b, o);
    if (type === ICMP_DEST_UNREACHABLE || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETER_PROBLEM) {
      this.errorInput(b, o, len, now);
      return;
    }
    if (type !== ICMP_ECHO_REQUEST) {
      this.counters[C.icmp_other_rx]++;
      return;
    }
    this.counters[C.icmp_echo_requests_rx]++;
    if (toBroadcast) {
      this.counters[C.icmp_echo_broadcast_ignored]++;
      return;
    }
    const r = this.ip.prepare(src, len, now);
    if (r < 0) return;
    const out = this.ip.buf;
    copyBytes(b, o, out, r, len);
    echoRequestToReply(out, r);
    this.ip.transmit(IPPROTO_ICMP, len, now);
    this.counters[C.icmp_echo_replies_tx]++;
  }

  /** An error message at b[o..o+len) (checksum verified): checked, rate-limited, handed to its transport. */
  private errorInput(b: Uint8Array, o: number, len: number, now: number): void {
    this.counters[C.icmp_errors_rx]++;
    const type = icmpType(b, o);
    const code = icmpCode(b, o);
    const frag = type === ICMP_DEST_UNREACHABLE && code === ICMP_FRAG_NEEDED;
    if (frag) this.counters[C.icmp_frag_needed_rx]++;
    const q = o + ICMP_HEADER_LEN;
    const qLen = len - ICMP_HEADER_LEN;
    const qhl = qLen >= IPV4_MIN_HEADER ? ipHeaderLength(b, q) : 0;
    if (
      qhl < IPV4_MIN_HEADER || b[q] >>> 4 !== 4 || qhl + QUOTED_L4_MIN > qLen ||
      ipSrc(b, q) !== this.ourIp || ipFragmentOffset(b, q) !== 0
    ) {
      this.counters[C.drop_icmp_error_quote]++;
      return;
    }
    if (!this.errorInputLimiter.take(now)) {
      this.counters[C.icmp_errors_rate_limited]++;
      return;
    }
    const t = this.errorInputs[ipProtocol(b, q)];
    if (t === undefined) {
      this.counters[C.drop_icmp_error_no_flow]++;
      return;
    }
    t.icmpError(type, code, frag ? icmpNextHopMtu(b, o) : 0, b, q, qLen, now);
  }

  /**
   * Sends Destination Unreachable (`code`) about the datagram at b[ipOff..], unless the
   * RFC 1122 3.2.2 exceptions apply or the rate limit is exhausted (counted).
   */
  sendDestUnreachable(code: number, b: Uint8Array, ipOff: number, toBroadcast: boolean, now: number): void {
    if (this.sendError(ICMP_DEST_UNREACHABLE, code, b, ipOff, toBroadcast, now, C.icmp_unreachable_rate_limited)) {
      this.counters[C.icmp_unreachable_tx]++;
    }
  }

  /**
   * Sends Time Exceeded (`code`; ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED when a reassembly
   * timed out, RFC 1122 3.3.2) about the datagram at b[ipOff..] (fragment zero), with the
   * same exceptions and rate limit as every error we send.
   */
  sendTimeExceeded(code: number, b: Uint8Array, ipOff: number, toBroadcast: boolean, now: number): void {
    if (this.sendError(ICMP_TIME_EXCEEDED, code, b, ipOff, toBroadcast, now, C.icmp_time_exceeded_rate_limited)) {
      this.counters[C.icmp_time_exceeded_tx]++;
    }
  }

  /**
   * Sends an error of `type`/`code` quoting the datagram at b[ipOff..] (as much as fits in
   * a 576-byte datagram), unless RFC 1122 3.2.2 forbids it (about a broadcast, about a
   * non-initial fragment, about an ICMP error) or the rate limit is spent (counted in
   * `limitedCounter`). Returns true when it went out.
   */
  private sendError(type: number, code: number, b: Uint8Array, ipOff: number, toBroadcast: boolean, now: number, limitedCounter: number): boolean {
    if (toBroadcast || ipFragmentOffset(b, ipOff) !== 0) return false;
    const hlen = ipHeaderLength(b, ipOff);
    if (ipProtocol(b, ipOff) === IPPROTO_ICMP) {
      const t = b[ipOff + hlen];
      // Never an error about an error (only echo/info queries may provoke one).
      if (t !== ICMP_ECHO_REQUEST && t !== ICMP_ECHO_REPLY) return false;
    }
    if (!this.errorLimiter.take(now)) {
      this.counters[limitedCounter]++;
      return false;
    }
    const quote = Math.min(ipTotalLength(b, ipOff), b.length - ipOff, ICMP_ERROR_MAX_DATAGRAM - 20 - ICMP_HEADER_LEN);
    const len = ICMP_HEADER_LEN + quote;
    const r = this.ip.prepare(ipSrc(b, ipOff), len, now);
    if (r < 0) return false;
    const out = this.ip.buf;
    out[r] = type;
    out[r + 1] = code;
    out.fill(0, r + 2, r + 8); // checksum and the unused word
    copyBytes(b, ipOff, out, r + ICMP_HEADER_LEN, quote);
    setIcmpChecksum(out, r, internetChecksum(out, r, len));
    this.ip.transmit(IPPROTO_ICMP, len, now);
    return true;
  }
}
