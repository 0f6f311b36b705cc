#!/usr/bin/env bash
# lab/lab.sh — build, inspect and remove the stackd network lab.
#
# The course runs its lab as two Docker containers on a user-defined bridge network:
#   client 10.10.0.3  ---+
#                        +--- bridge 10.10.0.0/24 (gateway 10.10.0.1 = the Docker host)
#   stack  10.10.0.4  ---+
# This script builds the same wiring with plain iproute2, without Docker, and without
# touching the machine's real ("root") network namespace at all:
#
#   namespace <lab>-host  (plays the Docker host)
#     br0      bridge, 10.10.0.1/24     <- "docker network create --subnet 10.10.0.0/24"
#     tap0     TAP port on br0          <- the wire stackd plugs into (it owns 10.10.0.4)
#     veth-c1  bridge port --------------+
#   namespace <lab>-c1    (plays a container)     <- "docker run --network lab --ip 10.10.0.3"
#     eth0     10.10.0.3/24, default via 10.10.0.1; fd00:10:10::3/64 (IPv6 lab subnet fd00:10:10::/64)
#   namespace <lab>-c2.. (10.10.0.5, .6, ...)  with --clients N
#
# stackd is then started with:  ip netns exec <lab>-host stackd --tap tap0 --ip6 fd00:10:10::4/64
# (fd00:10:10::4 is stackd's IPv6 address, as 10.10.0.4 is its IPv4 one; c2.. get ::5, ::6, ...)
#
# --container-stack: the stack as Docker would run it (docs/labs.md). Instead of tap0 in
# <lab>-host, a namespace <lab>-stack plays the `stack` container: its eth0 is a veth on
# br0 holding 10.10.0.4/24 exactly as Docker hands it over, and docker/stack-entrypoint.sh,
# run inside it unchanged (`lab.sh exec stack docker/stack-entrypoint.sh`), moves the
# address from the kernel to stackd (br0 + tap0 inside the namespace):
#   namespace <lab>-stack  (plays the "stack" container)
#     eth0     10.10.0.4/24, default via 10.10.0.1, MAC 02:42:0a:0a:00:04   (Docker's view)
#              after the entrypoint: eth0 + tap0 ports of a br0 in <lab>-stack, no address
#
# lab/netlab.sh adds Docker's other networking steps (NAT, port forwarding, isolation)
# to a lab; its namespaces (<lab>-wan, <lab>-net2, ...) are removed by "down" as well.
#
# Docker vocabulary, for readers who know it:
#   - a container's network   = a network namespace (its own interfaces, routes, ARP cache,
#                               sysctls, firewall); Docker creates one per container
#   - "docker network create" = a Linux bridge (a virtual switch) in the host namespace,
#                               with the gateway address (.1) assigned to the bridge itself
#   - connecting a container  = a veth pair (a virtual cable): one end stays on the host as
#                               a bridge port ("vethXXXX"), the other end is moved into the
#                               container namespace and renamed eth0
#   - Docker's IPAM           = the fixed address plan below; Docker also derives container
#                               MACs from the IP (02:42:<ip bytes>), which we copy
# Unlike Docker, our "host" is itself a namespace, so nothing (not even the bridge) lands
# in the real root namespace, and two labs with different names can coexist.
#
# Safety: every `ip` invocation targets a lab namespace (ip -n NS / ip netns exec NS); the
# root namespace gets no interface, address or route. Every wait loop is bounded.
set -Eeuo pipefail

# ---------------------------------------------------------------------------------------
# Fixed address plan (the course's): 10.10.0.0/24, kernel host .1, client .3, stackd .4
# ---------------------------------------------------------------------------------------
readonly SUBNET_PREFIX=10.10.0
readonly PREFIX_LEN=24
readonly HOST_IP=10.10.0.1 # on br0: the kernel's own IP stack, handy for comparisons
readonly STACK_IP=10.10.0.4 # owned by stackd through tap0; never assigned by this script
readonly SUBNET6_PREFIX=fd00:10:10: # IPv6 twin of the plan: client ::3, stackd ::4 (unique local, RFC 4193)
readonly PREFIX6_LEN=64
readonly STACK_IP6=fd00:10:10::4 # owned by stackd (--ip6), never assigned by this script
readonly BRIDGE=br0
readonly TAP=tap0
readonly CLIENT_IF=eth0
readonly MAX_CLIENTS=200

LAB="${STACKD_LAB:-stackd}"
CLIENTS=""   # empty = "as many as exist already, at least 1"
VNET_HDR=""  # empty = keep the existing tap's mode (off for a new tap); 1 / 0 = force
CONTAINER_STACK="" # empty = keep the lab's mode (container if <lab>-stack exists); 1 / 0 = force
readonly STACK_VETH=veth-stack
readonly STACK_IF=eth0
QUIET=0
CMD=""
WHO=""
EXEC_ARGS=()
LOCK_FILE=""

usage() {
  cat <<EOF
Usage: npm run lab -- [options] <command>
       bash lab/lab.sh [options] <command>

Commands:
  up                 build the lab (idempotent; repairs a half-built lab; on failure
                     tears the lab down and exits non-zero)
  down               remove the lab namespaces and everything in them (idempotent);
                     processes still running inside them are sent SIGTERM, then SIGKILL
  status             show namespaces, addresses, bridge ports and tap state;
                     exit 0 if the lab is fully up, 1 if not
  exec WHO [CMD...]  run CMD (default: \$SHELL) in namespace WHO = host | c1 | c2 | ...
                     | stack (--container-stack) | wan | net2 | va | vb | sw | p1... (netlab.sh)
                     e.g.  npm run lab -- exec c1 ping -c 3 ${STACK_IP}
                           npm run lab -- exec c1 ping -6 -c 3 ${STACK_IP6}
                     In "stack", STACKD_CONTROL defaults to /run/stackd/<lab>-stack.sock.

Options:
  --name N           lab name (default: \$STACKD_LAB or "stackd"); namespaces are
                     N-host, N-c1, N-c2...  [A-Za-z0-9_-], at most 24 characters
  --clients N        number of client namespaces for "up" (default: keep the existing
                     count, at least 1); extra clients beyond N are removed
                     c1 = ${SUBNET_PREFIX}.3, c2 = .5, c3 = .6, ... (never .1, never .4);
                     IPv6 likewise: c1 = ${SUBNET6_PREFIX}:3, c2 = ::5, ...
  --vnet-hdr         create tap0 with IFF_VNET_HDR (ip tuntap add ... vnet_hdr)
  --no-vnet-hdr      create tap0 without it (recreates an existing tap whose mode differs)
  --container-stack  "up": no tap0 in <lab>-host; instead a namespace <lab>-stack whose eth0
                     (veth on br0) holds ${STACK_IP}/${PREFIX_LEN}, like Docker's stack container.
                     Run the entrypoint in it:  lab.sh exec stack docker/stack-entrypoint.sh
  --no-container-stack  "up": back to tap0 in <lab>-host (removes <lab>-stack)
  -q, --quiet        do not print the ip commands that are run
  -h, --help         this text

Topology (inside namespace <lab>-host): ${BRIDGE} ${HOST_IP}/${PREFIX_LEN} with ports ${TAP}
(for stackd, which answers for ${STACK_IP}) and veth-cN (peer ${CLIENT_IF} in <lab>-cN).
Start stackd with:  ip netns exec <lab>-host stackd --tap ${TAP} --ip6 ${STACK_IP6}/${PREFIX6_LEN}

Test hook: STACKD_LAB_TEST_FAIL_ON=TEXT makes the first command whose text contains TEXT
fail, to exercise the tear-down-on-failure path.
EOF
}

# ---------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------
die() {
  echo "lab.sh: error: $*" >&2
  exit 2
}

say() {
  if [[ $QUIET == 0 ]]; then echo "$*"; fi
}

# run CMD...: print "+ CMD" (like `set -x`, unless --quiet) and run it. A failure propagates
# (set -e), which during "up" triggers the tear-down trap.
LAST_RUN=""
run() {
  LAST_RUN="$*"
  if [[ $QUIET == 0 ]]; then echo "+ $*"; fi
  if [[ -n ${STACKD_LAB_TEST_FAIL_ON:-} && "$*" == *"${STACKD_LAB_TEST_FAIL_ON}"* ]]; then
    echo "lab.sh: (test hook) simulating failure of: $*" >&2
    STACKD_LAB_TEST_FAIL_ON="" # fail once only, so the tear-down itself can proceed
    return 1
  fi
  "$@"
}

host_ns() { echo "${LAB}-host"; }
stack_ns() { echo "${LAB}-stack"; }
client_ns() { echo "${LAB}-c$1"; }

# Client i's last address byte: c1 = .3 (the course's client), then .5, .6, ... so that
# .1 (kernel host) and .4 (stackd) are never handed out.
client_octet() {
  if (($1 == 1)); then echo 3; else echo $(($1 + 3)); fi
}
client_ip() { echo "${SUBNET_PREFIX}.$(client_octet "$1")"; }
client_ip6() { echo "${SUBNET6_PREFIX}:$(client_octet "$1")"; }

link_has_addr6() { # ns dev cidr
  local a
  a="$({ ip -n "$1" -6 -o addr show dev "$2" scope global 2>/dev/null || true; } | awk '{print $4}')"
  [[ $'\n'"$a"$'\n' == *$'\n'"$3"$'\n'* ]]
}

# Docker-style MAC derived from the IPv4 address: 02:42 (locally administered) + IP bytes.
mac_for_octet() { printf '02:42:0a:0a:00:%02x' "$1"; }

# All namespaces that belong to this lab, one per line (the name is validated, so it is
# safe inside a regex).
lab_namespaces() {
  { ip netns list 2>/dev/null || true; } | awk '{print $1}' |
    grep -E "^${LAB}-(host|stack|wan|net2|va|vb|sw|rt|far|p[0-9]+|c[0-9]+)\$" || true
}

ns_exists() {
  local l
  l="$({ ip netns list 2>/dev/null || true; } | awk '{print $1}')"
  [[ $'\n'"$l"$'\n' == *$'\n'"$1"$'\n'* ]]
}

# Client indexes that currently exist, sorted numerically.
existing_client_indexes() {
  lab_namespaces | sed -n "s/^${LAB}-c\\([0-9][0-9]*\\)\$/\\1/p" | sort -n
}

max_existing_client() {
  local last
  last="$(existing_client_indexes | tail -n 1)"
  echo "${last:-0}"
}

link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

# "<BROADCAST,MULTICAST,UP,LOWER_UP>" -> "BROADCAST,MULTICAST,UP,LOWER_UP"
link_flags() {
  { ip -n "$1" -o link show dev "$2" 2>/dev/null || true; } | sed -n 's/^[0-9]*: [^:]*: <\([^>]*\)>.*/\1/p'
}

link_is_admin_up() { [[ ",$(link_flags "$1" "$2")," == *,UP,* ]]; }

link_master() {
  { ip -n "$1" -o link show dev "$2" 2>/dev/null || true; } | sed -n 's/.* master \([^ ]*\) .*/\1/p'
}

link_has_addr() { # ns dev cidr
  local a
  a="$({ ip -n "$1" -4 -o addr show dev "$2" 2>/dev/null || true; } | awk '{print $4}')"
  [[ $'\n'"$a"$'\n' == *$'\n'"$3"$'\n'* ]]
}

link_addrs() {
  local a
  a="$({ ip -n "$1" -4 -o addr show dev "$2" 2>/dev/null || true; } | awk '{print $4}' | paste -sd ' ' -)"
  echo "${a:--}"
}

# (Output is captured before matching: with pipefail, `cmd | grep -q` can fail spuriously
# when grep exits early and cmd gets SIGPIPE.)
tap_has_vnet_hdr() {
  local d
  d="$(ip -n "$1" -d link show dev "$2" 2>/dev/null || true)"
  [[ $d == *"vnet_hdr on"* ]]
}

# Read a sysctl inside a namespace ("" if it does not exist, e.g. IPv6 compiled out).
ns_sysctl_get() {
  ip netns exec "$1" cat "/proc/sys/${2//.//}" 2>/dev/null || true
}

ns_sysctl_set() { # ns key value: only runs (and prints) when the value differs
  local cur
  cur="$(ns_sysctl_get "$1" "$2")"
  [[ -z $cur || $cur == "$3" ]] && return 0
  if command -v sysctl >/dev/null 2>&1; then
    run ip netns exec "$1" sysctl -qw "$2=$3"
  else
    run ip netns exec "$1" sh -c "echo $3 > /proc/sys/${2//.//}"
  fi
}

# ---------------------------------------------------------------------------------------
# Preconditions and locking
# ---------------------------------------------------------------------------------------
require_root_and_ip() {
  # $EUID and `command -v` are bash built-ins, so this works even with an empty PATH.
  if [[ $EUID -ne 0 ]]; then
    die "must run as root (network namespaces, bridges and taps need CAP_NET_ADMIN/CAP_SYS_ADMIN); try: sudo npm run lab -- $CMD"
  fi
  if ! command -v ip >/dev/null 2>&1; then
    die "'ip' not found in PATH: install iproute2 (apt-get install iproute2)"
  fi
}

# Serialise concurrent up/down of the SAME lab (different labs never contend). Bounded.
acquire_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  local dir=/run
  [[ -d $dir && -w $dir ]] || dir=/tmp
  LOCK_FILE="${dir}/stackd-lab.${LAB}.lock"
  exec {LOCK_FD}>"$LOCK_FILE"
  flock -w 60 "$LOCK_FD" || die "another lab.sh is working on lab '${LAB}' (waited 60 s)"
}

# ---------------------------------------------------------------------------------------
# up: each ensure_* step checks the current state first and only changes what is missing,
# which makes "up" idempotent and lets it complete a half-built lab.
# ---------------------------------------------------------------------------------------

# Every namespace starts with only a DOWN loopback. Docker brings lo up in each container;
# the lab network has IPv6 enabled (as "docker network create --ipv6"), so disable_ipv6
# stays 0 and stackd sees the kernel's neighbour discovery and MLD. Duplicate address
# detection is off in the lab's namespaces ("default" is set before any interface is
# created): a client's link-local address is usable at once, and tests do not wait for it.
# The stack container's namespace is the exception (ensure_ns_baseline NS 0): its kernel
# keeps IPv6 off, as docker-compose.yml's sysctls and the entrypoint have it, so that
# stackd alone owns the stack's IPv6 address.
ensure_ns_baseline() {
  local ns="$1" ipv6_on="${2:-1}"
  if ! link_is_admin_up "$ns" lo; then run ip -n "$ns" link set lo up; fi
  local off=$((ipv6_on ? 0 : 1))
  ns_sysctl_set "$ns" net.ipv6.conf.all.disable_ipv6 "$off"
  ns_sysctl_set "$ns" net.ipv6.conf.default.disable_ipv6 "$off"
  if ((ipv6_on)); then
    ns_sysctl_set "$ns" net.ipv6.conf.all.accept_dad 0
    ns_sysctl_set "$ns" net.ipv6.conf.default.accept_dad 0
  fi
}

ensure_host() {
  local ns
  ns="$(host_ns)"

  # The "Docker host". Docker would use the machine's own root namespace; we use a private
  # one so the lab never touches the real network.
  if ! ns_exists "$ns"; then
    run ip netns add "$ns"
    ensure_ns_baseline "$ns"
    # Docker turns IP forwarding on (and adds NAT) so containers reach the outside world.
    # The lab keeps it off for now: the host only switches frames on br0.
    ns_sysctl_set "$ns" net.ipv4.ip_forward 0
  else
    ensure_ns_baseline "$ns"
  fi
  # When the br_netfilter module is loaded (Docker loads it), bridged IPv4 frames go
  # through iptables and the bridge itself DROPS malformed IPv4 headers (bad checksum,
  # IHL < 5, truncated) before they reach tap0; bridged IPv6 frames likewise through
  # ip6tables (bad version, truncated, payload length past the frame). Our stack must see
  # the wire as it is, so this bridge is a plain switch: no netfilter on bridged frames
  # in this namespace.
  ns_sysctl_set "$ns" net.bridge.bridge-nf-call-iptables 0
  ns_sysctl_set "$ns" net.bridge.bridge-nf-call-ip6tables 0
  ns_sysctl_set "$ns" net.bridge.bridge-nf-call-arptables 0

  # The bridge = "docker network create --subnet 10.10.0.0/24 --gateway 10.10.0.1 lab".
  # STP off (like docker0), so ports forward immediately; a fixed MAC keeps the bridge's
  # address stable as ports come and go (a bridge otherwise borrows its lowest port MAC).
  if ! link_exists "$ns" "$BRIDGE"; then
    run ip -n "$ns" link add "$BRIDGE" address "$(mac_for_octet 1)" type bridge stp_state 0
  fi
  # The gateway address lives on the bridge itself, exactly like docker0's 172.17.0.1.
  if ! link_has_addr "$ns" "$BRIDGE" "${HOST_IP}/${PREFIX_LEN}"; then
    run ip -n "$ns" addr add "${HOST_IP}/${PREFIX_LEN}" dev "$BRIDGE"
  fi
  if ! link_is_admin_up "$ns" "$BRIDGE"; then run ip -n "$ns" link set "$BRIDGE" up; fi

  if [[ $CONTAINER_STACK == 1 ]]; then
    # Container mode: the stack's wire is <lab>-stack's eth0, not a tap in the host.
    if link_exists "$ns" "$TAP"; then run ip -n "$ns" link del "$TAP"; fi
  else
    ensure_tap "$ns"
  fi
}

# The TAP is stackd's network card: frames the bridge sends to tap0 are read by stackd from
# /dev/net/tun, frames stackd writes come out of tap0 into the bridge. It is "persistent"
# (ip tuntap add), so it exists before stackd starts and survives stackd restarts; stackd
# attaches to it by name. Without a reader it shows NO-CARRIER, which is expected.
# (No Docker equivalent: in the course, the stack container's eth0 played this role.)
ensure_tap() {
  local ns="$1" want="$VNET_HDR" have
  if link_exists "$ns" "$TAP"; then
    if tap_has_vnet_hdr "$ns" "$TAP"; then have=1; else have=0; fi
    if [[ -n $want && $want != "$have" ]]; then
      say "# ${TAP} has vnet_hdr=$have but vnet_hdr=$want was asked for: recreating it"
      run ip -n "$ns" tuntap del dev "$TAP" mode tap
    fi
  fi
  if ! link_exists "$ns" "$TAP"; then
    if [[ $want == 1 ]]; then
      run ip -n "$ns" tuntap add dev "$TAP" mode tap vnet_hdr
    else
      run ip -n "$ns" tuntap add dev "$TAP" mode tap
    fi
  fi
  if [[ "$(link_master "$ns" "$TAP")" != "$BRIDGE" ]]; then
    run ip -n "$ns" link set "$TAP" master "$BRIDGE"
  fi
  if ! link_is_admin_up "$ns" "$TAP"; then run ip -n "$ns" link set "$TAP" up; fi
}

# The virtual cable of a container: veth HVETH in the host namespace HNS, its peer named IF
# with MAC in namespace NS, the host end a port of the bridge and up. Both ends always exist
# together (deleting one end, or the namespace holding it, deletes the pair), so a lone end
# means someone tampered: start over. Docker creates the pair on the host, then moves one
# end into the container and renames it eth0; we create it with the peer already named and
# already inside NS, so no end ever appears in the root namespace.
ensure_bridged_veth() {
  local hns="$1" hveth="$2" ns="$3" ifname="$4" mac="$5"
  local has_n=0 has_h=0
  if link_exists "$ns" "$ifname"; then has_n=1; fi
  if link_exists "$hns" "$hveth"; then has_h=1; fi
  if ((has_n && !has_h)); then run ip -n "$ns" link del "$ifname"; has_n=0; fi
  if ((has_h && !has_n)); then run ip -n "$hns" link del "$hveth"; has_h=0; fi
  if ((!has_n)); then
    run ip -n "$hns" link add "$hveth" type veth peer name "$ifname" address "$mac" netns "$ns"
  fi
  if [[ "$(link_master "$hns" "$hveth")" != "$BRIDGE" ]]; then
    run ip -n "$hns" link set "$hveth" master "$BRIDGE"
  fi
  if ! link_is_admin_up "$hns" "$hveth"; then run ip -n "$hns" link set "$hveth" up; fi
}

# One client = what "docker run --network lab --ip 10.10.0.3 ..." sets up for a container.
ensure_client() {
  local i="$1" hns cns hveth ip octet
  hns="$(host_ns)"
  cns="$(client_ns "$i")"
  hveth="veth-c$i"
  octet="$(client_octet "$i")"
  ip="${SUBNET_PREFIX}.${octet}"

  # The container's own network namespace.
  if ! ns_exists "$cns"; then run ip netns add "$cns"; fi
  ensure_ns_baseline "$cns"

  ensure_bridged_veth "$hns" "$hveth" "$cns" "$CLIENT_IF" "$(mac_for_octet "$octet")"

  # Container end: address from the subnet (Docker's IPAM), link up, default route via the
  # bridge's address (Docker's "gateway").
  if ! link_has_addr "$cns" "$CLIENT_IF" "${ip}/${PREFIX_LEN}"; then
    run ip -n "$cns" addr add "${ip}/${PREFIX_LEN}" dev "$CLIENT_IF"
  fi
  # IPv6 next to it (Docker's --ipv6 network would hand out one too); nodad: usable at once.
  if ! link_has_addr6 "$cns" "$CLIENT_IF" "$(client_ip6 "$i")/${PREFIX6_LEN}"; then
    run ip -n "$cns" addr add "$(client_ip6 "$i")/${PREFIX6_LEN}" dev "$CLIENT_IF" nodad
  fi
  if ! link_is_admin_up "$cns" "$CLIENT_IF"; then run ip -n "$cns" link set "$CLIENT_IF" up; fi
  if [[ "$(ip -n "$cns" -4 route show default 2>/dev/null)" != "default via ${HOST_IP} dev ${CLIENT_IF} "* ]]; then
    run ip -n "$cns" route replace default via "$HOST_IP" dev "$CLIENT_IF"
  fi
}

# The "stack" container, as Docker hands it over: eth0 = veth on br0 with 10.10.0.4/24,
# a Docker-style MAC and a default route via the bridge. docker/stack-entrypoint.sh then
# takes the address away from this kernel and gives it to stackd.
ensure_stack_container() {
  local hns sns
  hns="$(host_ns)"
  sns="$(stack_ns)"
  if ! ns_exists "$sns"; then run ip netns add "$sns"; fi
  ensure_ns_baseline "$sns" 0

  ensure_bridged_veth "$hns" "$STACK_VETH" "$sns" "$STACK_IF" "$(mac_for_octet 4)"

  # Once the entrypoint has run, eth0 is a port of the stack's own br0 and stackd owns the
  # address: leave it alone (re-adding 10.10.0.4 would make the kernel answer again).
  if [[ -n "$(link_master "$sns" "$STACK_IF")" ]]; then
    say "# ${sns}: ${STACK_IF} is a port of $(link_master "$sns" "$STACK_IF") (entrypoint has run): left as it is"
    return 0
  fi
  if ! link_has_addr "$sns" "$STACK_IF" "${STACK_IP}/${PREFIX_LEN}"; then
    run ip -n "$sns" addr add "${STACK_IP}/${PREFIX_LEN}" dev "$STACK_IF"
  fi
  if ! link_is_admin_up "$sns" "$STACK_IF"; then run ip -n "$sns" link set "$STACK_IF" up; fi
  if [[ "$(ip -n "$sns" -4 route show default 2>/dev/null)" != "default via ${HOST_IP} dev ${STACK_IF} "* ]]; then
    run ip -n "$sns" route replace default via "$HOST_IP" dev "$STACK_IF"
  fi
}

on_up_failure() {
  local rc="$1" what="$2"
  # A failure inside a command substitution runs the trap in that subshell: just make the
  # subshell fail, so the error reaches the main shell, which does the tear-down once.
  if [[ $BASHPID != "$$" ]]; then exit "$rc"; fi
  trap - ERR
  set +e
  echo "lab.sh: error: 'up' failed (exit $rc) at: $what" >&2
  echo "lab.sh: tearing lab '${LAB}' down so no half-built lab is left behind" >&2
  teardown
  if [[ -n "$(lab_namespaces)" ]]; then
    echo "lab.sh: error: tear-down incomplete, leftover namespaces: $(lab_namespaces | paste -sd ' ' -)" >&2
  fi
  exit 1
}

cmd_up() {
  require_root_and_ip
  [[ -c /dev/net/tun ]] || die "/dev/net/tun missing: a TAP device needs the tun driver (modprobe tun, or run the container with --device /dev/net/tun)"
  acquire_lock

  local n="$CLIENTS" max
  max="$(max_existing_client)"
  if [[ -z $n ]]; then n=$((max > 1 ? max : 1)); fi

  # A tap in use (stackd attached: carrier up) cannot be recreated with another mode;
  # refuse before changing anything rather than tear down a running lab.
  local hns
  hns="$(host_ns)"
  # The lab's mode: asked for, else the one it is in (a <lab>-stack namespace = container).
  if [[ -z $CONTAINER_STACK ]]; then
    if ns_exists "$(stack_ns)"; then CONTAINER_STACK=1; else CONTAINER_STACK=0; fi
  fi
  if [[ $CONTAINER_STACK == 1 && -n $VNET_HDR ]]; then
    die "--vnet-hdr/--no-vnet-hdr apply to tap0 in ${LAB}-host; with --container-stack the entrypoint creates the tap"
  fi
  if [[ $CONTAINER_STACK == 1 ]] && ns_exists "$hns" && link_exists "$hns" "$TAP" &&
    [[ ",$(link_flags "$hns" "$TAP")," == *,LOWER_UP,* ]]; then
    die "${TAP} in lab '${LAB}' is in use (carrier up: a stackd runs in ${hns}); stop it before switching to --container-stack"
  fi
  if [[ $CONTAINER_STACK == 0 ]] && ns_exists "$(stack_ns)" && [[ -n "$(ip netns pids "$(stack_ns)" 2>/dev/null)" ]]; then
    die "processes run in $(stack_ns) (a stackd?); stop them before --no-container-stack"
  fi
  if [[ -n $VNET_HDR ]] && ns_exists "$hns" && link_exists "$hns" "$TAP"; then
    local have=0
    if tap_has_vnet_hdr "$hns" "$TAP"; then have=1; fi
    if [[ $have != "$VNET_HDR" && ",$(link_flags "$hns" "$TAP")," == *,LOWER_UP,* ]]; then
      die "${TAP} in lab '${LAB}' is in use (carrier up) with vnet_hdr=$have; stop stackd first"
    fi
  fi

  trap 'on_up_failure $? "${LAST_RUN:-$BASH_COMMAND}"' ERR
  ensure_host
  local i
  for ((i = 1; i <= n; i++)); do ensure_client "$i"; done
  if [[ $CONTAINER_STACK == 1 ]]; then
    ensure_stack_container
  elif ns_exists "$(stack_ns)"; then
    run ip netns del "$(stack_ns)"
  fi
  # --clients N is declarative: clients beyond N (from an earlier, bigger "up") go away.
  for i in $(existing_client_indexes); do
    if ((i > n)); then
      stop_ns_processes "$(client_ns "$i")"
      run ip netns del "$(client_ns "$i")"
    fi
  done
  trap - ERR

  if [[ $CONTAINER_STACK == 1 ]]; then
    say "lab '${LAB}' is up (container stack): ${LAB}-host (${BRIDGE} ${HOST_IP}), ${LAB}-stack (${STACK_IF} ${STACK_IP}), clients c1..c${n}; start the stack with: bash lab/lab.sh --name ${LAB} exec stack docker/stack-entrypoint.sh"
  else
    say "lab '${LAB}' is up: ${LAB}-host (${BRIDGE} ${HOST_IP}, ${TAP}), clients c1..c${n}; start stackd with: ip netns exec ${LAB}-host stackd --tap ${TAP} --ip6 ${STACK_IP6}/${PREFIX6_LEN}"
  fi
}

# ---------------------------------------------------------------------------------------
# down = "docker rm -f" every container + "docker network rm". Deleting a namespace deletes
# every interface in it (veth pairs, bridge, tap) — but only once no process is still
# inside it, so processes left in the lab (a running stackd, a shell) are stopped first.
# ---------------------------------------------------------------------------------------
stop_ns_processes() {
  local ns="$1" pids tries
  pids="$(ip netns pids "$ns" 2>/dev/null | paste -sd ' ' -)" || true
  [[ -z $pids ]] && return 0
  # shellcheck disable=SC2086
  run kill -TERM $pids 2>/dev/null || true
  for ((tries = 0; tries < 50; tries++)); do # at most ~5 s
    pids="$(ip netns pids "$ns" 2>/dev/null | paste -sd ' ' -)" || true
    [[ -z $pids ]] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  run kill -KILL $pids 2>/dev/null || true
  for ((tries = 0; tries < 20; tries++)); do # at most ~2 s
    [[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]] && return 0
    sleep 0.1
  done
  echo "lab.sh: warning: processes still in $ns after SIGKILL: $pids" >&2
}

teardown() {
  local ns nss
  # clients (…-cN) first, the host (…-host) last
  nss="$(lab_namespaces | grep -v -- '-host$' || true; lab_namespaces | grep -- '-host$' || true)"
  if [[ -z $nss ]]; then
    say "lab '${LAB}': nothing to remove"
    return 0
  fi
  for ns in $nss; do stop_ns_processes "$ns"; done
  for ns in $nss; do
    # Tolerate a namespace that vanished meanwhile; report anything else.
    if ns_exists "$ns"; then run ip netns del "$ns" || echo "lab.sh: warning: could not delete $ns" >&2; fi
  done
}

cmd_down() {
  require_root_and_ip
  acquire_lock
  teardown
  if [[ -n "$(lab_namespaces)" ]]; then
    die "could not remove: $(lab_namespaces | paste -sd ' ' -)"
  fi
  # Leave nothing behind, not even the lock file (still held, so a concurrent "up" of the
  # same lab waits for us; it then works on the unlinked file, which is harmless).
  if [[ -n ${LOCK_FILE:-} ]]; then rm -f -- "$LOCK_FILE"; fi
}

# ---------------------------------------------------------------------------------------
# status: everything a human needs to see, deterministic (no counters), exit 0 iff complete.
# ---------------------------------------------------------------------------------------
cmd_status() {
  require_root_and_ip
  local problems=() hns n i cns
  hns="$(host_ns)"
  n="$(max_existing_client)"
  ((n >= 1)) || n=1

  echo "lab ${LAB}: subnet ${SUBNET_PREFIX}.0/${PREFIX_LEN}, kernel host ${HOST_IP}, stackd ${STACK_IP}; IPv6 ${SUBNET6_PREFIX}:/${PREFIX6_LEN}, stackd ${STACK_IP6}"
  echo "namespaces:"
  for cns in "$hns" $(for ((i = 1; i <= n; i++)); do client_ns "$i"; done); do
    if ns_exists "$cns"; then echo "  $cns"; else echo "  $cns  MISSING"; problems+=("namespace $cns missing"); fi
  done

  if ns_exists "$hns"; then
    echo "host (${hns}):"
    if link_exists "$hns" "$BRIDGE"; then
      echo "  ${BRIDGE}  <$(link_flags "$hns" "$BRIDGE")>  $(link_addrs "$hns" "$BRIDGE")"
      link_is_admin_up "$hns" "$BRIDGE" || problems+=("${BRIDGE} is down")
      link_has_addr "$hns" "$BRIDGE" "${HOST_IP}/${PREFIX_LEN}" || problems+=("${BRIDGE} lacks ${HOST_IP}/${PREFIX_LEN}")
      echo "  bridge ports: $(ip -n "$hns" -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | paste -sd ' ' -)"
    else
      echo "  ${BRIDGE}  MISSING"
      problems+=("${BRIDGE} missing")
    fi
    if ns_exists "$(stack_ns)"; then
      echo "  ${TAP}  none here (container stack: the tap lives in $(stack_ns))"
    elif link_exists "$hns" "$TAP"; then
      local flags vh carrier
      flags="$(link_flags "$hns" "$TAP")"
      if tap_has_vnet_hdr "$hns" "$TAP"; then vh=on; else vh=off; fi
      if [[ ",$flags," == *,LOWER_UP,* ]]; then carrier="carrier (stackd attached)"; else carrier="no carrier (no stackd attached)"; fi
      echo "  ${TAP}  <${flags}>  master=$(link_master "$hns" "$TAP" || true) vnet_hdr=${vh}, ${carrier}"
      link_is_admin_up "$hns" "$TAP" || problems+=("${TAP} is down")
      [[ "$(link_master "$hns" "$TAP")" == "$BRIDGE" ]] || problems+=("${TAP} is not a port of ${BRIDGE}")
    else
      echo "  ${TAP}  MISSING"
      problems+=("${TAP} missing")
    fi
    echo "  sysctl: ip_forward=$(ns_sysctl_get "$hns" net.ipv4.ip_forward) ipv6.disable=$(ns_sysctl_get "$hns" net.ipv6.conf.all.disable_ipv6)"
  fi

  local sns
  sns="$(stack_ns)"
  if ns_exists "$sns"; then
    echo "stack (${sns}, container mode):"
    if link_exists "$sns" "$STACK_IF"; then
      local smaster
      smaster="$(link_master "$sns" "$STACK_IF")"
      if [[ -n $smaster ]]; then
        echo "  ${STACK_IF}  port of ${smaster}, addresses: $(link_addrs "$sns" "$STACK_IF") (entrypoint has run: stackd owns ${STACK_IP})"
        if link_exists "$sns" "$TAP"; then
          if [[ ",$(link_flags "$sns" "$TAP")," == *,LOWER_UP,* ]]; then echo "  ${TAP}  carrier (stackd attached)"; else echo "  ${TAP}  no carrier (no stackd attached)"; fi
        fi
      else
        echo "  ${STACK_IF}  <$(link_flags "$sns" "$STACK_IF")>  $(link_addrs "$sns" "$STACK_IF") (kernel owns it: entrypoint not run yet)"
      fi
    else
      echo "  ${STACK_IF}  MISSING"
      problems+=("stack ${STACK_IF} missing")
    fi
    if ns_exists "$hns"; then
      [[ "$(link_master "$hns" "$STACK_VETH")" == "$BRIDGE" ]] || problems+=("${STACK_VETH} is not a port of ${BRIDGE}")
    fi
  fi
  local extra
  extra="$(lab_namespaces | grep -vE -- "-(host|stack|c[0-9]+)\$" | paste -sd ' ' - || true)"
  [[ -z $extra ]] || echo "netlab namespaces: ${extra}"

  for ((i = 1; i <= n; i++)); do
    cns="$(client_ns "$i")"
    ns_exists "$cns" || continue
    echo "c$i (${cns}):"
    if link_exists "$cns" "$CLIENT_IF"; then
      echo "  ${CLIENT_IF}  <$(link_flags "$cns" "$CLIENT_IF")>  $(link_addrs "$cns" "$CLIENT_IF")"
      link_has_addr "$cns" "$CLIENT_IF" "$(client_ip "$i")/${PREFIX_LEN}" || problems+=("c$i ${CLIENT_IF} lacks $(client_ip "$i")/${PREFIX_LEN}")
      echo "  ${CLIENT_IF}  ipv6 $(client_ip6 "$i")/${PREFIX6_LEN}: $(link_has_addr6 "$cns" "$CLIENT_IF" "$(client_ip6 "$i")/${PREFIX6_LEN}" && echo present || echo MISSING)"
      link_has_addr6 "$cns" "$CLIENT_IF" "$(client_ip6 "$i")/${PREFIX6_LEN}" || problems+=("c$i ${CLIENT_IF} lacks $(client_ip6 "$i")/${PREFIX6_LEN}")
      link_is_admin_up "$cns" "$CLIENT_IF" || problems+=("c$i ${CLIENT_IF} is down")
    else
      echo "  ${CLIENT_IF}  MISSING"
      problems+=("c$i ${CLIENT_IF} missing")
    fi
    echo "  route: $(ip -n "$cns" -4 route show default 2>/dev/null | sed 's/ *$//' | paste -sd ';' -)"
    [[ "$(ip -n "$cns" -4 route show default 2>/dev/null)" == "default via ${HOST_IP} dev ${CLIENT_IF} "* ]] || problems+=("c$i has no default route via ${HOST_IP}")
    if ns_exists "$hns"; then
      [[ "$(link_master "$hns" "veth-c$i")" == "$BRIDGE" ]] || problems+=("veth-c$i is not a port of ${BRIDGE}")
      link_is_admin_up "$hns" "veth-c$i" || problems+=("veth-c$i is down")
    fi
    echo "  sysctl: ipv6.disable=$(ns_sysctl_get "$cns" net.ipv6.conf.all.disable_ipv6)"
  done

  if ((${#problems[@]} == 0)); then
    echo "status: up"
    return 0
  fi
  echo "status: NOT up"
  local p
  for p in "${problems[@]}"; do echo "  - $p"; done
  return 1
}

# ---------------------------------------------------------------------------------------
# exec = "docker exec": run a command inside one of the lab's namespaces.
# ---------------------------------------------------------------------------------------
cmd_exec() {
  require_root_and_ip
  [[ -n $WHO ]] || die "exec needs a target: host | c1 | c2 | ...  (see --help)"
  [[ $WHO =~ ^(host|stack|wan|net2|va|vb|sw|[cp][1-9][0-9]*)$ ]] ||
    die "exec target must be host, c1, c2, ..., stack, wan, net2, va, vb, sw, p1, ... (got '$WHO')"
  local ns="${LAB}-${WHO}"
  if ! ns_exists "$ns"; then
    case "$WHO" in
      stack) die "namespace $ns does not exist; run: npm run lab -- --name ${LAB} --container-stack up" ;;
      host | c*) die "namespace $ns does not exist; run: npm run lab -- --name ${LAB} up" ;;
      *) die "namespace $ns does not exist; it is made by lab/netlab.sh (see bash lab/netlab.sh --help)" ;;
    esac
  fi
  # /run is shared by all namespaces: give each lab's stackd its own control socket.
  if [[ $WHO == stack ]]; then export STACKD_CONTROL="${STACKD_CONTROL:-/run/stackd/${LAB}-stack.sock}"; fi
  if ((${#EXEC_ARGS[@]} == 0)); then EXEC_ARGS=("${SHELL:-/bin/sh}"); fi
  exec ip netns exec "$ns" "${EXEC_ARGS[@]}"
}

# ---------------------------------------------------------------------------------------
# Argument parsing: options may come before or after the command; for "exec", everything
# after the target (WHO) is the command, passed through untouched.
# ---------------------------------------------------------------------------------------
parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --name) (($# >= 2)) || die "--name needs a value"; LAB="$2"; shift 2 ;;
      --name=*) LAB="${1#--name=}"; shift ;;
      --clients) (($# >= 2)) || die "--clients needs a value"; CLIENTS="$2"; shift 2 ;;
      --clients=*) CLIENTS="${1#--clients=}"; shift ;;
      --vnet-hdr) VNET_HDR=1; shift ;;
      --no-vnet-hdr) VNET_HDR=0; shift ;;
      --container-stack) CONTAINER_STACK=1; shift ;;
      --no-container-stack) CONTAINER_STACK=0; shift ;;
      -q | --quiet) QUIET=1; shift ;;
      --) shift; if [[ $CMD == exec && -n $WHO ]]; then EXEC_ARGS=("$@"); return 0; fi ;;
      -*) die "unknown option: $1 (see --help)" ;;
      *)
        if [[ -z $CMD ]]; then
          CMD="$1"; shift
        elif [[ $CMD == exec && -z $WHO ]]; then
          WHO="$1"; shift
          [[ ${1:-} == -- ]] && shift
          EXEC_ARGS=("$@")
          return 0
        else
          die "unexpected argument: $1 (see --help)"
        fi
        ;;
    esac
  done
}

main() {
  parse_args "$@"
  [[ -n $CMD ]] || { usage >&2; exit 2; }
  [[ $LAB =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$ ]] || die "invalid lab name '$LAB': use [A-Za-z0-9_-], at most 24 characters, not starting with '-' or '_'"
  if [[ -n $CLIENTS ]]; then
    [[ $CLIENTS =~ ^[1-9][0-9]*$ ]] && ((CLIENTS <= MAX_CLIENTS)) || die "--clients must be 1..${MAX_CLIENTS} (got '$CLIENTS')"
  fi
  case "$CMD" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    exec) cmd_exec ;;
    help) usage ;;
    *) die "unknown command: $CMD (expected up, down, status, exec; see --help)" ;;
  esac
}

main "$@"
