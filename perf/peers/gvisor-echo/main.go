// gvisor-echo: a tiny gVisor netstack responder on an existing TAP device.
//
// It opens TAP device NAME (IFF_TAP|IFF_NO_PI), wraps the fd in gVisor's
// fdbased link endpoint (Ethernet framing, MTU 1500), and runs a userspace
// gVisor netstack (ipv4 + arp; icmp, udp, tcp) with one address on NIC 1.
// Netstack itself answers ARP and ICMP echo requests; in addition a UDP
// echo server listens on port 7. Used as a latency reference peer next to
// stackd and the Linux kernel.
//
// Usage:
//
//	gvisor-echo -tap tap1 -addr 10.10.0.6/24 [-mac 02:67:76:00:00:06]
//
// Build (offline, GOPATH mode, Debian's gVisor 2022-12 snapshot), see build.sh:
//
//	apt-get install -y golang-go golang-gvisor-gvisor-dev
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
//	  go build -o gvisor-echo main.go
//
// Exits cleanly on SIGINT/SIGTERM.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/link/tun"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

const nicID tcpip.NICID = 1

func main() {
	tapName := flag.String("tap", "", "existing TAP device to attach to (required)")
	addrFlag := flag.String("addr", "", "IPv4 address with prefix, e.g. 10.10.0.6/24 (required)")
	macFlag := flag.String("mac", "", "MAC address (default 02:67:76:<last 3 bytes of addr>)")
	noUDP := flag.Bool("no-udp-echo", false, "do not start the UDP echo server on port 7")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gvisor-echo: ")

	if *tapName == "" || *addrFlag == "" {
		flag.Usage()
		os.Exit(2)
	}
	ip, ipnet, err := net.ParseCIDR(*addrFlag)
	if err != nil || ip.To4() == nil {
		log.Fatalf("bad -addr %q: need IPv4 A.B.C.D/N", *addrFlag)
	}
	ip4 := ip.To4()
	prefixLen, _ := ipnet.Mask.Size()

	macStr := *macFlag
	if macStr == "" {
		macStr = fmt.Sprintf("02:67:76:%02x:%02x:%02x", ip4[1], ip4[2], ip4[3])
	}
	mac, err := tcpip.ParseMACAddress(macStr)
	if err != nil {
		log.Fatalf("bad -mac %q: %v", macStr, err)
	}

	fd, err := tun.OpenTAP(*tapName)
	if err != nil {
		log.Fatalf("open TAP %q: %v", *tapName, err)
	}

	ep, err := fdbased.New(&fdbased.Options{
		FDs:            []int{fd},
		MTU:            1500,
		EthernetHeader: true,
		Address:        mac,
	})
	if err != nil {
		log.Fatalf("fdbased.New: %v", err)
	}

	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{icmp.NewProtocol4, udp.NewProtocol, tcp.NewProtocol},
	})
	if tcpipErr := s.CreateNIC(nicID, ep); tcpipErr != nil {
		log.Fatalf("CreateNIC: %v", tcpipErr)
	}
	protoAddr := tcpip.ProtocolAddress{
		Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{
			Address:   tcpip.Address(ip4),
			PrefixLen: prefixLen,
		},
	}
	if tcpipErr := s.AddProtocolAddress(nicID, protoAddr, stack.AddressProperties{}); tcpipErr != nil {
		log.Fatalf("AddProtocolAddress: %v", tcpipErr)
	}
	s.SetRouteTable([]tcpip.Route{{
		Destination: protoAddr.AddressWithPrefix.Subnet(),
		NIC:         nicID,
	}})

	var conn *gonet.UDPConn
	if !*noUDP {
		conn, err = gonet.DialUDP(s, &tcpip.FullAddress{NIC: nicID, Port: 7}, nil, ipv4.ProtocolNumber)
		if err != nil {
			log.Fatalf("UDP echo listen: %v", err)
		}
		go udpEcho(conn)
	}

	log.Printf("up: tap=%s addr=%s mac=%s udp-echo=%v", *tapName, protoAddr.AddressWithPrefix, mac, !*noUDP)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	sig := <-sigs
	log.Printf("got %v, shutting down", sig)
	if conn != nil {
		conn.Close()
	}
	s.Close()
	unix.Close(fd)
	os.Exit(0)
}

func udpEcho(conn *gonet.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return // closed on shutdown
		}
		if _, err := conn.WriteTo(buf[:n], from); err != nil {
			log.Printf("udp echo write to %v: %v", from, err)
		}
	}
}
