/**
 * Addresses at the socket API (decision 0030): the text and family Node's sockets report
 * for the core's transport addresses (a uint32 IPv4 address, or an interned IPv6 one,
 * base/ipv6-interner.ts), and the literal addresses applications pass in.
 *
 * The rule for IPv4-mapped addresses (RFC 4291 2.5.5.2), as Node and Linux have it for a
 * socket bound to `::`: a dual-stack socket (a server listening without a host, a 'udp6'
 * socket) reports an IPv4 peer as `::ffff:a.b.c.d` with family 'IPv6'; an IPv4-only one
 * as `a.b.c.d`, 'IPv4'. An address given as `::ffff:a.b.c.d` is that IPv4 address on the
 * wire (it never goes out in an IPv6 header). IPv6 text is RFC 5952's canonical form.
 */
import { formatIpv4, parseIpv4 } from '../wire/addresses.js';
import { formatIpv6, ipv6, parseIpv6 } from '../wire/ipv6-address.js';
import { IPV6_ID_BASE, type Ipv6Interner } from '../base/ipv6-interner.js';

/** The family names Node reports. */
export type SocketFamily = 'IPv4' | 'IPv6';

/** acquire(): the text is not an IP address. */
export const NOT_AN_ADDRESS = -1;
/** acquire(): an IPv6 address, and this worker has no IPv6 (or no room to intern it). */
export const NO_IPV6 = -2;

/** The addresses of one worker's sockets. */
export class SocketAddresses {
  private readonly scratch = ipv6(0, 0, 0, 0);

  /** @param interner the Host's interned IPv6 addresses (null: IPv4 only) */
  constructor(private readonly interner: Ipv6Interner | null) {}

  /** True when this worker carries TCP and UDP over IPv6. */
  get ipv6(): boolean {
    return this.interner !== null;
  }

  /** Text of `ip`; `mapped`: an IPv4 address as a dual-stack socket sees it (`::ffff:a.b.c.d`). */
  format(ip: number, mapped = false): string {
    if (ip >= IPV6_ID_BASE && this.interner !== null) return formatIpv6(this.interner.copyInto(ip, this.scratch));
    // IPv4 text is shared by the sockets that need the same one (our address on every
    // socket, a client's on its connections): two slots, the most recent first. (An IPv6
    // id can name another address once released, so its text is not kept.)
    const key = mapped ? -1 - ip : ip;
    if (key === this.key0) return this.text0;
    if (key === this.key1) {
      this.swapSlots();
      return this.text0;
    }
    this.key1 = this.key0;
    this.text1 = this.text0;
    this.key0 = key;
    this.text0 = mapped ? `::ffff:${formatIpv4(ip)}` : formatIpv4(ip);
    return this.text0;
  }

  private key0 = NaN;
  private text0 = '';
  private key1 = NaN;
  private text1 = '';

  private swapSlots(): void {
    const k = this.key0;
    const t = this.text0;
    this.key0 = this.key1;
    this.text0 = this.text1;
    this.key1 = k;
    this.text1 = t;
  }

  /** `a.b.c.d:port` or `[v6]:port` (RFC 5952 section 6), for /connections and logs. */
  endpoint(ip: number, port: number): string {
    return ip >= IPV6_ID_BASE ? `[${this.format(ip)}]:${port}` : `${formatIpv4(ip)}:${port}`;
  }

  /** Family of `ip` as reported (`mapped`: a dual-stack socket's view of an IPv4 peer). */
  family(ip: number, mapped = false): SocketFamily {
    return ip >= IPV6_ID_BASE || mapped ? 'IPv6' : 'IPv4';
  }

  /**
   * The transport address for a literal: an IPv4 number (`::ffff:a.b.c.d` included), or an
   * IPv6 address interned with one reference the caller gives back with release();
   * NOT_AN_ADDRESS or NO_IPV6 otherwise.
   */
  acquire(text: string): number {
    const v4 = parseIpv4(text);
    if (!Number.isNaN(v4)) return v4;
    const a = parseIpv6(text);
    if (a === null) return NOT_AN_ADDRESS;
    if (a[0] === 0 && a[1] === 0 && a[2] === 0xffff) return a[3]; // IPv4-mapped
    if (this.interner === null) return NO_IPV6;
    const id = this.interner.intern(a);
    return id < 0 ? NO_IPV6 : id;
  }

  /** Gives back the reference acquire() took (nothing for IPv4). */
  release(ip: number): void {
    if (ip >= IPV6_ID_BASE) this.interner?.release(ip);
  }

  /** Takes one more reference on an interned address (nothing for IPv4). */
  retain(ip: number): void {
    if (ip >= IPV6_ID_BASE) this.interner?.acquire(ip);
  }
}

/** The addresses of a worker without IPv6 (sockets created without any). */
export const IPV4_ONLY = new SocketAddresses(null);
