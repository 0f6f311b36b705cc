/**
 * The routing table of a host: where a datagram to a destination goes first.
 *
 * RFC 1122 3.3.1 (a host sends to the destination itself when it is on a connected
 * network, else to a gateway: 3.3.1.1 the local/remote decision, 3.3.1.2 gateway
 * selection, where a host may be given routes to particular networks besides its default)
 * and RFC 1812 5.2.4.3 (the longest matching prefix wins). Entries: our subnet (connected:
 * the next hop is the destination), the static routes, and the default gateway as
 * 0.0.0.0/0. A handful at most (MAX_STATIC_ROUTES), kept in arrays sorted by prefix length,
 * longest first, so a lookup is a scan that stops at the first match, with no allocation.
 */
import { prefixMask } from '../wire/addresses.js';
import type { HostConfig } from '../base/host-config.js';

/** lookup()'s answer when no entry matches. */
export const NO_ROUTE = -1;
/** A gateway of 0 marks the connected subnet: the destination is its own next hop. */
const ON_LINK = 0;

/** Longest-prefix-match routing table over the host's configuration. */
export class RouteTable {
  private readonly nets: Uint32Array;
  private readonly masks: Uint32Array;
  private readonly gateways: Uint32Array;

  constructor(config: Pick<HostConfig, 'ip' | 'prefixLength' | 'gateway' | 'routes'>) {
    const entries = [
      { prefixLength: config.prefixLength, net: config.ip, gateway: ON_LINK },
      ...(config.routes ?? []).map((r) => ({ prefixLength: r.prefixLength, net: r.dest, gateway: r.gateway })),
    ];
    if (config.gateway !== 0) entries.push({ prefixLength: 0, net: 0, gateway: config.gateway });
    // Longest first; on a tie the earlier entry (the subnet, then routes in the order given) wins.
    entries.sort((a, b) => b.prefixLength - a.prefixLength);
    this.nets = new Uint32Array(entries.length);
    this.masks = new Uint32Array(entries.length);
    this.gateways = new Uint32Array(entries.length);
    entries.forEach((e, i) => {
      this.masks[i] = prefixMask(e.prefixLength);
      this.nets[i] = (e.net & this.masks[i]) >>> 0;
      this.gateways[i] = e.gateway;
    });
  }

  /** Entries, for tests and /stats: longest prefix first. */
  get size(): number {
    return this.nets.length;
  }

  /** The next hop for `dst`: `dst` itself on the subnet, a gateway, or NO_ROUTE. */
  lookup(dst: number): number {
    const n = this.nets.length;
    for (let i = 0; i < n; i++) {
      if (((dst & this.masks[i]) >>> 0) === this.nets[i]) {
        const g = this.gateways[i];
        return g === ON_LINK ? dst : g;
      }
    }
    return NO_ROUTE;
  }
}
