/**
 * The IPv6 addresses of our interface and the multicast groups they make us listen to.
 *
 * RFC 4862 5.4 (an address is TENTATIVE until duplicate address detection succeeds; a
 * tentative address receives nothing but the ND messages of DAD; a DUPLICATE one is never
 * used), RFC 4291 2.8 (a host listens to all-nodes and to the solicited-node group of each
 * of its addresses; 2.7.1), RFC 6724 (source selection, reduced to its rules 1-2 and 8
 * for one interface: the destination itself, the same scope, the longest matching prefix),
 * RFC 4861 5.2 (on-link: link-local destinations and our prefixes).
 *
 * Lookups compare against packet bytes in place; the table is small (the link-local
 * address and the --ip6 ones), so a linear scan is the fast path.
 */
import {
  type Ipv6Address, IPV6_ALL_NODES, IPV6_UNSPECIFIED,
  ipv6Equals, ipv6EqualsAt, ipv6InPrefix, ipv6IsLinkLocal, ipv6IsMulticast, multicastMacOf, solicitedNodeOf,
} from '../wire/ipv6-address.js';

/** DAD state of an address (RFC 4862 2: tentative, preferred; plus the outcome "duplicate"). */
export type AddressState = 'TENTATIVE' | 'PREFERRED' | 'DUPLICATE';

/** One address of ours. */
export interface OwnAddress {
  readonly address: Ipv6Address;
  readonly prefixLength: number;
  state: AddressState;
  /** TENTATIVE: when DAD's wait after the last solicitation ends (ms). */
  dadDeadline: number;
  /** TENTATIVE: DAD solicitations sent so far. */
  dadSent: number;
}

/** Addresses of the interface and the groups it listens to. */
export class Ipv6AddressTable {
  readonly entries: OwnAddress[] = [];
  /** all-nodes and the solicited-node group of every address (deduplicated). */
  private groups: Ipv6Address[] = [IPV6_ALL_NODES];
  private groupMacs = new Set<number>([multicastMacOf(IPV6_ALL_NODES)]);

  /** Adds `address`/`prefixLength` as TENTATIVE (or returns the entry it already has). */
  add(address: Ipv6Address, prefixLength: number): OwnAddress {
    const have = this.entries.find((e) => ipv6Equals(e.address, address));
    if (have !== undefined) return have;
    const e: OwnAddress = { address, prefixLength, state: 'TENTATIVE', dadDeadline: Infinity, dadSent: 0 };
    this.entries.push(e);
    this.rebuildGroups();
    return e;
  }

  /** Our entry for the address at b[o] in any state, or undefined. */
  findAt(b: Uint8Array, o: number): OwnAddress | undefined {
    for (const e of this.entries) if (ipv6EqualsAt(b, o, e.address)) return e;
    return undefined;
  }

  /** Our entry for `a` in any state, or undefined. */
  find(a: Readonly<Ipv6Address>): OwnAddress | undefined {
    for (const e of this.entries) if (ipv6Equals(e.address, a)) return e;
    return undefined;
  }

  /** True when the group at b[o] is one we listen to. */
  listensAt(b: Uint8Array, o: number): boolean {
    for (const g of this.groups) if (ipv6EqualsAt(b, o, g)) return true;
    return false;
  }

  /** True when `mac` is the Ethernet address of a group we listen to (33:33:...). */
  acceptsMac(mac: number): boolean {
    return this.groupMacs.has(mac);
  }

  /** The groups to report in MLD (all-nodes is never reported, RFC 3810 6). */
  reportedGroups(): Ipv6Address[] {
    return this.groups.slice(1);
  }

  /** True when `dst` is on-link: link-local (unicast or multicast) or inside one of our prefixes. */
  onLink(dst: Readonly<Ipv6Address>): boolean {
    if (ipv6IsLinkLocal(dst) || ipv6IsMulticast(dst)) return true;
    for (const e of this.entries) if (e.state !== 'DUPLICATE' && !ipv6IsLinkLocal(e.address) && ipv6InPrefix(dst, e.address, e.prefixLength)) return true;
    return false;
  }

  /**
   * The source address for a packet to `dst` (RFC 6724 section 5, one interface): `dst`
   * itself when it is ours, an address of the same scope, the longest matching prefix;
   * only PREFERRED addresses. IPV6_UNSPECIFIED when there is none.
   */
  selectSource(dst: Readonly<Ipv6Address>): Readonly<Ipv6Address> {
    let best: OwnAddress | undefined;
    let bestScore = -1;
    const dstLinkScope = ipv6IsLinkLocal(dst) || (ipv6IsMulticast(dst) && ((dst[0] >>> 16) & 0xf) <= 2);
    for (const e of this.entries) {
      if (e.state !== 'PREFERRED') continue;
      if (ipv6Equals(e.address, dst)) return e.address;
      const sameScope = ipv6IsLinkLocal(e.address) === dstLinkScope;
      const score = (sameScope ? 256 : 0) + commonPrefixLength(e.address, dst);
      if (score > bestScore) {
        best = e;
        bestScore = score;
      }
    }
    return best?.address ?? IPV6_UNSPECIFIED;
  }

  private rebuildGroups(): void {
    const groups: Ipv6Address[] = [IPV6_ALL_NODES];
    for (const e of this.entries) {
      const g = solicitedNodeOf(e.address);
      if (!groups.some((x) => ipv6Equals(x, g))) groups.push(g);
    }
    this.groups = groups;
    this.groupMacs = new Set(groups.map(multicastMacOf));
  }
}

/** Number of leading bits `a` and `b` share (0..128). */
function commonPrefixLength(a: Readonly<Ipv6Address>, b: Readonly<Ipv6Address>): number {
  for (let i = 0; i < 4; i++) {
    const x = (a[i] ^ b[i]) >>> 0;
    if (x !== 0) return i * 32 + Math.clz32(x);
  }
  return 128;
}
