/**
 * The start of a Python script that sends hand-made IPv6 packets from a lab client
 * (AF_PACKET on its eth0) to stackd's MAC: `ip6(nh, payload, plen=None, ver=6)` builds the
 * IPv6 header from `src` to `dst`, `csum(bytes)` is the Internet checksum and `send(body)`
 * puts the Ethernet header in front. For the tests of bad input over IPv6.
 */

/** Python source: the definitions above, for a script that goes on from there. */
export function rawIpv6Preamble(stackMac: string, src: string, dst: string): string {
  return `
import socket, struct
dst_mac = bytes.fromhex("${stackMac.replace(/:/g, '')}")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
src_mac = s.getsockname()[4]
SRC = socket.inet_pton(socket.AF_INET6, "${src}")
DST = socket.inet_pton(socket.AF_INET6, "${dst}")
def csum(b):
    if len(b) % 2: b += b"\\0"
    t = sum(struct.unpack("!%dH" % (len(b)//2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff
def ip6(nh, payload, plen=None, ver=6):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", ver << 28, plen, nh, 64) + SRC + DST + payload
def send(body):
    s.send(dst_mac + src_mac + struct.pack("!H", 0x86dd) + body)
`;
}
