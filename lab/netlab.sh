#!/usr/bin/env bash
# lab/netlab.sh — Docker's container networking, built by hand, one lesson at a time.
#
# Every lesson prints the ip / iptables commands it runs, so the output reads as a recipe.
# Everything happens inside network namespaces named after the lab (--name, default
# "stackd"); the machine's own (root) namespace gets no interface, address, route or rule.
#
#   veth       two namespaces joined by a bare veth pair (a virtual cable)
#              <lab>-va eth0 10.1.0.1/24  <==veth==>  <lab>-vb eth0 10.1.0.2/24
#   bridge     N namespaces joined by a bridge (a virtual switch) in <lab>-sw
#              <lab>-p1 .. <lab>-pN at 10.2.0.11 .. 10.2.0.(10+N)/24, ports veth-p1..N of br0
#   nat        (needs the lab: bash lab/lab.sh up) an "outside" network: <lab>-wan
#              192.168.100.2/24 on a veth to <lab>-host's wan0 192.168.100.1/24; forwarding
#              on and Docker's MASQUERADE rule, so clients (10.10.0.0/24) reach the outside
#              and are seen there as 192.168.100.1
#   portfwd    (adds nat) Docker's -p: DNAT on <lab>-host's own addresses, tcp 8080 ->
#              10.10.0.4:80 (stackd's HTTP, once TCP lands) and udp 8007 -> 10.10.0.4:7
#              (stackd's UDP echo); from the outside, from clients (hairpin) and from the
#              host namespace itself (OUTPUT chain). stackd must run with --gateway 10.10.0.1
#   isolation  (needs the lab) a second network 10.20.0.0/24: br1 in <lab>-host and a
#              client <lab>-net2 10.20.0.3; forwarding on, Docker's DOCKER-USER and
#              DOCKER-ISOLATION-STAGE-1/2 chains keep 10.10.0.0/24 and 10.20.0.0/24 apart;
#              "isolation allow" / "isolation deny" add / remove an allow rule in DOCKER-USER
#
# Usage: bash lab/netlab.sh [--name LAB] [-q] LESSON up|down|status
#        bash lab/netlab.sh [--name LAB] isolation allow|deny
#        bash lab/netlab.sh [--name LAB] down          (every lesson of this lab)
# Run commands in the namespaces with: bash lab/lab.sh --name LAB exec WHO CMD...
#   (WHO = va, vb, sw, p1.., wan, net2, host, c1..); "bash lab/lab.sh down" removes these too.
#
# "up" is idempotent (only missing pieces are added, so it also repairs); a failing "up"
# removes what that lesson built and exits non-zero. Every wait is bounded.
set -Eeuo pipefail

LAB="${STACKD_LAB:-stackd}"
QUIET=0
PORTS=3
LESSON=""
ACTION=""

# Address plan (Docker-like; all inside the lab's namespaces).
readonly VETH_A=10.1.0.1 VETH_B=10.1.0.2
readonly SW_NET=10.2.0
readonly LAB_NET=10.10.0.0/24 LAB_GW=10.10.0.1 STACK_IP=10.10.0.4 LAB_BR=br0
readonly WAN_HOST=192.168.100.1 WAN_PEER=192.168.100.2 WAN_PREFIX=24 WAN_IF=wan0
readonly NET2_NET=10.20.0.0/24 NET2_GW=10.20.0.1 NET2_CLIENT=10.20.0.3 NET2_BR=br1
# Published ports: HOSTPORT:PROTO -> ADDR:PORT  ("docker run -p 8080:80 -p 8007:7/udp")
readonly PUBLISH=("8080 tcp ${STACK_IP} 80" "8007 udp ${STACK_IP} 7")

usage() { sed -n '2,/^set -Eeuo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() {
  echo "netlab.sh: error: $*" >&2
  exit 2
}
say() { if [[ $QUIET == 0 ]]; then echo "$*"; fi; }
LAST_RUN=""
run() {
  LAST_RUN="$*"
  if [[ $QUIET == 0 ]]; then echo "+ $*"; fi
  if [[ -n ${STACKD_NETLAB_TEST_FAIL_ON:-} && "$*" == *"${STACKD_NETLAB_TEST_FAIL_ON}"* ]]; then
    echo "netlab.sh: (test hook) simulating failure of: $*" >&2
    STACKD_NETLAB_TEST_FAIL_ON=""
    return 1
  fi
  "$@"
}

ns() { echo "${LAB}-$1"; }
ns_exists() {
  local l
  l="$({ ip netns list 2>/dev/null || true; } | awk '{print $1}')"
  [[ $'\n'"$l"$'\n' == *$'\n'"$1"$'\n'* ]]
}
link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }
link_up() { [[ "$({ ip -n "$1" -o link show dev "$2" 2>/dev/null || true; } | sed -n 's/^[0-9]*: [^:]*: <\([^>]*\)>.*/,\1,/p')" == *,UP,* ]]; }
link_master() { { ip -n "$1" -o link show dev "$2" 2>/dev/null || true; } | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }
has_addr() { [[ $'\n'"$({ ip -n "$1" -4 -o addr show dev "$2" 2>/dev/null || true; } | awk '{print $4}')"$'\n' == *$'\n'"$3"$'\n'* ]]; }
sysctl_get() { ip netns exec "$1" cat "/proc/sys/${2//.//}" 2>/dev/null || true; }
sysctl_set() {
  local cur
  cur="$(sysctl_get "$1" "$2")"
  [[ -z $cur || $cur == "$3" ]] && return 0
  run ip netns exec "$1" sysctl -qw "$2=$3"
}

# ----- building blocks, each checks before it changes -----------------------------------
ensure_ns() { # a fresh namespace = a container's network: lo up, no IPv6 (as Docker)
  if ! ns_exists "$1"; then run ip netns add "$1"; fi
  link_up "$1" lo || run ip -n "$1" link set lo up
  sysctl_set "$1" net.ipv6.conf.all.disable_ipv6 1
  sysctl_set "$1" net.ipv6.conf.default.disable_ipv6 1
}
ensure_addr() { has_addr "$1" "$2" "$3" || run ip -n "$1" addr add "$3" dev "$2"; }
ensure_up() { link_up "$1" "$2" || run ip -n "$1" link set "$2" up; }
ensure_master() { [[ "$(link_master "$1" "$2")" == "$3" ]] || run ip -n "$1" link set "$2" master "$3"; }
ensure_default_route() { # ns gw dev
  [[ "$(ip -n "$1" -4 route show default 2>/dev/null)" == "default via $2 dev $3 "* ]] ||
    run ip -n "$1" route replace default via "$2" dev "$3"
}
# A veth pair: end A (name $2) in namespace $1, end B (name $4) in namespace $3. Both ends
# exist together or not at all; a lone end is removed and the pair made again.
ensure_veth() {
  local a=0 b=0
  link_exists "$1" "$2" && a=1
  link_exists "$3" "$4" && b=1
  if ((a && !b)); then run ip -n "$1" link del "$2"; a=0; fi
  if ((b && !a)); then run ip -n "$3" link del "$4"; b=0; fi
  if ((!a)); then run ip -n "$1" link add "$2" type veth peer name "$4" ${5:+address "$5"} netns "$3"; fi
}
stop_ns_processes() { # bounded: TERM, up to 5 s, KILL, up to 2 s
  local pids t
  pids="$(ip netns pids "$1" 2>/dev/null | paste -sd ' ' -)" || true
  [[ -z $pids ]] && return 0
  # shellcheck disable=SC2086
  run kill -TERM $pids 2>/dev/null || true
  for ((t = 0; t < 50; t++)); do [[ -z "$(ip netns pids "$1" 2>/dev/null)" ]] && return 0; sleep 0.1; done
  # shellcheck disable=SC2086
  run kill -KILL $pids 2>/dev/null || true
  for ((t = 0; t < 20; t++)); do [[ -z "$(ip netns pids "$1" 2>/dev/null)" ]] && return 0; sleep 0.1; done
}
del_ns() { if ns_exists "$1"; then stop_ns_processes "$1"; run ip netns del "$1"; fi; }

# iptables inside the lab's host namespace (nft backend is fine: per-namespace tables).
HNS=""
ipt_q() { ip netns exec "$HNS" iptables "$@" >/dev/null 2>&1; }
ipt() { run ip netns exec "$HNS" iptables "$@"; }
chain_exists() { ipt_q -t "$1" -n -L "$2"; }
ensure_chain() { chain_exists "$1" "$2" || ipt -t "$1" -N "$2"; }
ensure_rule() { # table chain rule... (appended)
  local t="$1" c="$2"
  shift 2
  ipt_q -t "$t" -C "$c" "$@" || ipt -t "$t" -A "$c" "$@"
}
ensure_rule_first() { # table chain rule... (inserted at the top)
  local t="$1" c="$2"
  shift 2
  ipt_q -t "$t" -C "$c" "$@" || ipt -t "$t" -I "$c" 1 "$@"
}
drop_rule() { # table chain rule...: delete every copy
  local t="$1" c="$2" n
  shift 2
  for ((n = 0; n < 20; n++)); do ipt_q -t "$t" -C "$c" "$@" || return 0; ipt -t "$t" -D "$c" "$@"; done
}
drop_chain() { if chain_exists "$1" "$2"; then ipt -t "$1" -F "$2"; ipt -t "$1" -X "$2"; fi; }

need_lab() {
  HNS="$(ns host)"
  ns_exists "$HNS" && link_exists "$HNS" "$LAB_BR" ||
    die "lesson '$LESSON' builds on the lab: run first  bash lab/lab.sh --name ${LAB} up"
}
# Forwarding stays on while any lesson that routes (nat, portfwd, isolation) is up.
maybe_forwarding_off() {
  ns_exists "$HNS" || return 0
  if ! link_exists "$HNS" "$WAN_IF" && ! link_exists "$HNS" "$NET2_BR" && ! chain_exists nat DOCKER; then
    sysctl_set "$HNS" net.ipv4.ip_forward 0
  fi
}

# ===== (a) veth ==========================================================================
veth_up() {
  local a b
  a="$(ns va)"
  b="$(ns vb)"
  say "# (a) a veth pair is a cable with one end in each namespace; Docker makes one per container"
  ensure_ns "$a"
  ensure_ns "$b"
  # Both ends are born in their namespaces: nothing ever appears in the root namespace.
  ensure_veth "$a" eth0 "$b" eth0
  ensure_addr "$a" eth0 "${VETH_A}/24"
  ensure_addr "$b" eth0 "${VETH_B}/24"
  ensure_up "$a" eth0
  ensure_up "$b" eth0
  say "# try: bash lab/lab.sh --name ${LAB} exec va ping -c 2 ${VETH_B}"
}
veth_down() { del_ns "$(ns va)"; del_ns "$(ns vb)"; }
veth_status() {
  local a b ok=0
  a="$(ns va)"
  b="$(ns vb)"
  ns_exists "$a" && ns_exists "$b" && has_addr "$a" eth0 "${VETH_A}/24" && has_addr "$b" eth0 "${VETH_B}/24" &&
    link_up "$a" eth0 && link_up "$b" eth0 && ok=1
  echo "veth: $([[ $ok == 1 ]] && echo up || echo 'not up') (${a} ${VETH_A} <-> ${b} ${VETH_B})"
  [[ $ok == 1 ]]
}

# ===== (b) bridge ========================================================================
bridge_up() {
  local sw i p
  sw="$(ns sw)"
  say "# (b) a bridge is a switch: every namespace gets a veth whose other end is a bridge port"
  ensure_ns "$sw"
  # A plain switch: no netfilter on bridged frames (docs/decisions/0007), STP off (docker0 too).
  sysctl_set "$sw" net.bridge.bridge-nf-call-iptables 0
  link_exists "$sw" br0 || run ip -n "$sw" link add br0 type bridge stp_state 0
  ensure_up "$sw" br0
  for ((i = 1; i <= PORTS; i++)); do
    p="$(ns "p$i")"
    ensure_ns "$p"
    ensure_veth "$sw" "veth-p$i" "$p" eth0
    ensure_master "$sw" "veth-p$i" br0
    ensure_up "$sw" "veth-p$i"
    ensure_addr "$p" eth0 "${SW_NET}.$((10 + i))/24"
    ensure_up "$p" eth0
  done
  # Ports beyond --ports from an earlier, bigger "up" go away.
  for p in $({ ip netns list 2>/dev/null || true; } | awk '{print $1}' | sed -n "s/^${LAB}-p\\([0-9][0-9]*\\)\$/\\1/p"); do
    if ((p > PORTS)); then del_ns "$(ns "p$p")"; fi
  done
  say "# (Docker also gives the bridge the network's first address, the containers' gateway)"
  say "# try: bash lab/lab.sh --name ${LAB} exec p1 ping -c 2 ${SW_NET}.12; ip -n ${sw} link show master br0"
}
bridge_down() {
  local p
  for p in $({ ip netns list 2>/dev/null || true; } | awk '{print $1}' | grep -E "^${LAB}-p[0-9]+\$" || true); do del_ns "$p"; done
  del_ns "$(ns sw)"
}
bridge_status() {
  local sw n
  sw="$(ns sw)"
  n="$({ ip -n "$sw" -o link show master br0 2>/dev/null || true; } | grep -c . || true)"
  echo "bridge: $(ns_exists "$sw" && link_up "$sw" br0 && echo up || echo 'not up') (${sw} br0, ${n} ports)"
  ns_exists "$sw" && link_up "$sw" br0
}

# ===== (c) nat ===========================================================================
nat_up() {
  local wan
  need_lab
  wan="$(ns wan)"
  say "# (c) the outside world: a network the lab's clients do not belong to"
  ensure_ns "$wan"
  ensure_veth "$HNS" "$WAN_IF" "$wan" eth0
  ensure_addr "$HNS" "$WAN_IF" "${WAN_HOST}/${WAN_PREFIX}"
  ensure_up "$HNS" "$WAN_IF"
  ensure_addr "$wan" eth0 "${WAN_PEER}/${WAN_PREFIX}"
  ensure_up "$wan" eth0
  say "# ${wan} has no route to ${LAB_NET}: replies can only come back through NAT"
  say "# Docker turns routing on in the host ..."
  sysctl_set "$HNS" net.ipv4.ip_forward 1
  say "# ... and rewrites the source of what leaves a bridge network to the host's address:"
  ensure_rule nat POSTROUTING -s "$LAB_NET" ! -o "$LAB_BR" -j MASQUERADE
  say "# try: bash lab/lab.sh --name ${LAB} exec wan nc -lvnk -p 9000   and   exec c1 nc -N ${WAN_PEER} 9000"
}
nat_down() {
  need_lab_soft || return 0
  drop_rule nat POSTROUTING -s "$LAB_NET" ! -o "$LAB_BR" -j MASQUERADE
  if link_exists "$HNS" "$WAN_IF"; then run ip -n "$HNS" link del "$WAN_IF"; fi
  del_ns "$(ns wan)"
  maybe_forwarding_off
}
nat_status() {
  local ok=0
  HNS="$(ns host)"
  ns_exists "$HNS" && ns_exists "$(ns wan)" && has_addr "$HNS" "$WAN_IF" "${WAN_HOST}/${WAN_PREFIX}" &&
    ipt_q -t nat -C POSTROUTING -s "$LAB_NET" ! -o "$LAB_BR" -j MASQUERADE &&
    [[ "$(sysctl_get "$HNS" net.ipv4.ip_forward)" == 1 ]] && ok=1
  echo "nat: $([[ $ok == 1 ]] && echo up || echo 'not up') ($(ns wan) ${WAN_PEER} <-> ${HNS} ${WAN_IF} ${WAN_HOST}, MASQUERADE ${LAB_NET})"
  [[ $ok == 1 ]]
}
# down must work on a half-removed lab: only needs the host namespace to exist.
need_lab_soft() {
  HNS="$(ns host)"
  if ! ns_exists "$HNS"; then
    del_ns "$(ns wan)"
    del_ns "$(ns net2)"
    return 1
  fi
}

# ===== (d) portfwd =======================================================================
publish_rule() { # hostport proto addr port -> the DNAT rule's arguments
  echo "-p $2 --dport $1 -j DNAT --to-destination $3:$4"
}
NAT_WAS_UP=0
portfwd_up() {
  local p hp proto addr port
  need_lab
  if nat_status >/dev/null; then NAT_WAS_UP=1; fi
  nat_up
  say "# (d) docker run -p HOSTPORT:PORT = DNAT on every address of the host, in a DOCKER chain"
  ensure_chain nat DOCKER
  # Packets arriving from outside (or from a client) for one of the host's own addresses ...
  ensure_rule nat PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
  # ... and packets the host itself sends to its own addresses (they skip PREROUTING).
  ensure_rule nat OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
  for p in "${PUBLISH[@]}"; do
    read -r hp proto addr port <<<"$p"
    # shellcheck disable=SC2046
    ensure_rule nat DOCKER $(publish_rule "$hp" "$proto" "$addr" "$port")
  done
  # Hairpin: a client on br0 reaching the host's address is DNATed to a neighbour on the
  # same bridge, which would answer it directly (and be ignored). Docker relies on
  # br_netfilter or its userland proxy for this; with a plain bridge (decision 0007) we
  # masquerade such connections, so replies return through the host and get un-NATed.
  ensure_rule nat POSTROUTING -o "$LAB_BR" -s "$LAB_NET" -m conntrack --ctstate DNAT -j MASQUERADE
  say "# stackd replies to off-subnet sources via its gateway: run it with --gateway ${LAB_GW}"
  say "# try: echo hi | bash lab/lab.sh --name ${LAB} exec wan nc -u -w1 ${WAN_HOST} 8007"
}
portfwd_down() {
  local p hp proto addr port
  need_lab_soft || return 0
  drop_rule nat POSTROUTING -o "$LAB_BR" -s "$LAB_NET" -m conntrack --ctstate DNAT -j MASQUERADE
  drop_rule nat PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
  drop_rule nat OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
  drop_chain nat DOCKER
  maybe_forwarding_off
}
portfwd_status() {
  local ok=0 p hp proto addr port
  HNS="$(ns host)"
  if ns_exists "$HNS" && chain_exists nat DOCKER && ipt_q -t nat -C PREROUTING -m addrtype --dst-type LOCAL -j DOCKER &&
    ipt_q -t nat -C OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER; then
    ok=1
    for p in "${PUBLISH[@]}"; do
      read -r hp proto addr port <<<"$p"
      # shellcheck disable=SC2046
      ipt_q -t nat -C DOCKER $(publish_rule "$hp" "$proto" "$addr" "$port") || ok=0
    done
  fi
  echo "portfwd: $([[ $ok == 1 ]] && echo up || echo 'not up') (tcp 8080 -> ${STACK_IP}:80, udp 8007 -> ${STACK_IP}:7)"
  [[ $ok == 1 ]]
}

# ===== (e) isolation =====================================================================
isolation_up() {
  local n2 b
  need_lab
  n2="$(ns net2)"
  say "# (e) a second network (docker network create --subnet ${NET2_NET}): another bridge"
  link_exists "$HNS" "$NET2_BR" || run ip -n "$HNS" link add "$NET2_BR" address 02:42:0a:14:00:01 type bridge stp_state 0
  ensure_addr "$HNS" "$NET2_BR" "${NET2_GW}/24"
  ensure_up "$HNS" "$NET2_BR"
  ensure_ns "$n2"
  ensure_veth "$HNS" veth-n2 "$n2" eth0 02:42:0a:14:00:03
  ensure_master "$HNS" veth-n2 "$NET2_BR"
  ensure_up "$HNS" veth-n2
  ensure_addr "$n2" eth0 "${NET2_CLIENT}/24"
  ensure_up "$n2" eth0
  ensure_default_route "$n2" "$NET2_GW" eth0
  say "# with routing on, the host would happily route between the two networks ..."
  sysctl_set "$HNS" net.ipv4.ip_forward 1
  say "# ... so Docker drops, in FORWARD, what leaves one bridge network for another:"
  ensure_chain filter DOCKER-USER
  ensure_chain filter DOCKER-ISOLATION-STAGE-1
  ensure_chain filter DOCKER-ISOLATION-STAGE-2
  # DOCKER-USER first: where Docker lets users put their own rules (it never touches it).
  ensure_rule filter DOCKER-USER -j RETURN
  for b in "$LAB_BR" "$NET2_BR"; do
    ensure_rule filter DOCKER-ISOLATION-STAGE-1 -i "$b" ! -o "$b" -j DOCKER-ISOLATION-STAGE-2
  done
  ensure_rule filter DOCKER-ISOLATION-STAGE-1 -j RETURN
  for b in "$LAB_BR" "$NET2_BR"; do
    ensure_rule filter DOCKER-ISOLATION-STAGE-2 -o "$b" -j DROP
  done
  ensure_rule filter DOCKER-ISOLATION-STAGE-2 -j RETURN
  if ! ipt_q -t filter -C FORWARD -j DOCKER-USER || ! ipt_q -t filter -C FORWARD -j DOCKER-ISOLATION-STAGE-1; then
    drop_rule filter FORWARD -j DOCKER-ISOLATION-STAGE-1
    drop_rule filter FORWARD -j DOCKER-USER
    ipt -t filter -I FORWARD 1 -j DOCKER-ISOLATION-STAGE-1
    ipt -t filter -I FORWARD 1 -j DOCKER-USER
  fi
  say "# try: bash lab/lab.sh --name ${LAB} exec c1 ping -c 1 ${NET2_CLIENT}   (no reply), then: netlab.sh isolation allow"
}
allow_rules() { # the user's exception, both directions, in DOCKER-USER
  echo "-i $LAB_BR -o $NET2_BR -j ACCEPT"
  echo "-i $NET2_BR -o $LAB_BR -j ACCEPT"
}
isolation_allow() {
  local r
  need_lab
  chain_exists filter DOCKER-USER || die "isolation is not up: bash lab/netlab.sh --name ${LAB} isolation up"
  say "# an exception goes into DOCKER-USER, which FORWARD consults before the isolation chains"
  while read -r r; do
    # shellcheck disable=SC2086
    ensure_rule_first filter DOCKER-USER $r
  done < <(allow_rules)
}
isolation_deny() {
  local r
  need_lab
  while read -r r; do
    # shellcheck disable=SC2086
    drop_rule filter DOCKER-USER $r
  done < <(allow_rules)
}
isolation_down() {
  need_lab_soft || return 0
  drop_rule filter FORWARD -j DOCKER-USER
  drop_rule filter FORWARD -j DOCKER-ISOLATION-STAGE-1
  drop_chain filter DOCKER-USER
  drop_chain filter DOCKER-ISOLATION-STAGE-1
  drop_chain filter DOCKER-ISOLATION-STAGE-2
  del_ns "$(ns net2)"
  if link_exists "$HNS" veth-n2; then run ip -n "$HNS" link del veth-n2; fi
  if link_exists "$HNS" "$NET2_BR"; then run ip -n "$HNS" link del "$NET2_BR"; fi
  maybe_forwarding_off
}
isolation_status() {
  local ok=0 allowed=no
  HNS="$(ns host)"
  ns_exists "$HNS" && ns_exists "$(ns net2)" && link_exists "$HNS" "$NET2_BR" &&
    ipt_q -t filter -C FORWARD -j DOCKER-ISOLATION-STAGE-1 && ipt_q -t filter -C FORWARD -j DOCKER-USER && ok=1
  if [[ $ok == 1 ]] && ipt_q -t filter -C DOCKER-USER -i "$LAB_BR" -o "$NET2_BR" -j ACCEPT; then allowed=yes; fi
  echo "isolation: $([[ $ok == 1 ]] && echo up || echo 'not up') (${LAB_NET} on ${LAB_BR} | ${NET2_NET} on ${NET2_BR}; allowed: ${allowed})"
  [[ $ok == 1 ]]
}

# ===== driver ============================================================================
on_failure() {
  local rc="$1"
  if [[ $BASHPID != "$$" ]]; then exit "$rc"; fi
  trap - ERR
  set +e
  echo "netlab.sh: error: '${LESSON} ${ACTION}' failed (exit $rc) at: ${LAST_RUN:-?}" >&2
  echo "netlab.sh: removing what '${LESSON}' built, so nothing half-built is left" >&2
  "${LESSON}_down"
  # portfwd also brings nat up: take that away too unless it was up before.
  if [[ $LESSON == portfwd && $NAT_WAS_UP == 0 ]]; then nat_down; fi
  exit 1
}

parse_args() {
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --name) (($# >= 2)) || die "--name needs a value"; LAB="$2"; shift 2 ;;
      --name=*) LAB="${1#--name=}"; shift ;;
      --ports) (($# >= 2)) || die "--ports needs a value"; PORTS="$2"; shift 2 ;;
      --ports=*) PORTS="${1#--ports=}"; shift ;;
      -q | --quiet) QUIET=1; shift ;;
      -*) die "unknown option: $1 (see --help)" ;;
      *)
        if [[ -z $LESSON ]]; then LESSON="$1"
        elif [[ -z $ACTION ]]; then ACTION="$1"
        else die "unexpected argument: $1 (see --help)"; fi
        shift
        ;;
    esac
  done
}

main() {
  parse_args "$@"
  [[ -n $LESSON ]] || { usage >&2; exit 2; }
  [[ $LAB =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$ ]] || die "invalid lab name '$LAB'"
  [[ $PORTS =~ ^[1-9][0-9]?$ ]] && ((PORTS >= 2 && PORTS <= 20)) || die "--ports must be 2..20 (got '$PORTS')"
  [[ $EUID -eq 0 ]] || die "must run as root (namespaces and iptables need CAP_NET_ADMIN/CAP_SYS_ADMIN)"
  command -v ip >/dev/null 2>&1 || die "'ip' not found: install iproute2"
  if [[ $LESSON == down ]]; then
    [[ -z $ACTION ]] || die "unexpected argument: $ACTION"
    LESSON=all
    isolation_down
    portfwd_down
    nat_down
    bridge_down
    veth_down
    return 0
  fi
  case "$LESSON" in veth | bridge | nat | portfwd | isolation) ;; *) die "unknown lesson '$LESSON' (veth, bridge, nat, portfwd, isolation, down)" ;; esac
  if [[ $LESSON =~ ^(nat|portfwd|isolation)$ ]] && ! command -v iptables >/dev/null 2>&1; then
    die "'iptables' not found: install iptables (the nft backend is fine)"
  fi
  case "$ACTION" in
    up)
      trap 'on_failure $?' ERR
      "${LESSON}_up"
      trap - ERR
      ;;
    down) "${LESSON}_down" ;;
    status) "${LESSON}_status" ;;
    allow | deny)
      [[ $LESSON == isolation ]] || die "'$ACTION' is for the isolation lesson"
      "isolation_${ACTION}"
      ;;
    "") die "$LESSON needs an action: up, down or status" ;;
    *) die "unknown action '$ACTION' for $LESSON" ;;
  esac
}

main "$@"
