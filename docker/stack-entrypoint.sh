#!/usr/bin/env bash
# docker/stack-entrypoint.sh — hand the container's IPv4 address from the kernel to stackd.
#
# Docker gives the `stack` container an eth0 holding 10.10.0.4/24 (a veth whose other end
# is a port of the Docker bridge), a default route via 10.10.0.1, and a kernel that
# answers ARP and ping for 10.10.0.4. stackd must own that address instead, so this
# script rewires the container's network namespace:
#
#     before:  eth0 10.10.0.4/24 (kernel)          after:  br0 (no address, a plain switch)
#                                                           ├── eth0  (no address any more)
#                                                           └── tap0  <-> stackd 10.10.0.4
#
# and then `exec`s stackd with --ip <eth0's address/prefix> --gateway <eth0's gateway>
# --tap tap0 (stackd picks its own MAC; peers learn it from ARP). Frames from the Docker
# network reach eth0, cross br0 to tap0 and are answered by stackd, not by the kernel.
#
# The same script runs unchanged outside Docker, in the lab's container-like namespace:
#     bash lab/lab.sh --container-stack up && bash lab/lab.sh exec stack docker/stack-entrypoint.sh
#
# Arguments are stackd's (default: --workers $STACKD_WORKERS --tap $STACKD_TAP); --ip and
# --gateway are derived here (override with STACKD_IP / STACKD_GATEWAY).
#
# Environment:
#   STACKD_BIN       command that starts stackd, split on spaces
#                    [default: node <this script's dir>/../dist/src/cli/stackd.js, else `stackd`]
#   STACKD_WORKERS   worker threads when no arguments are given       [default: 4]
#   STACKD_TAP       TAP name when the arguments name none            [default: tap0]
#   STACKD_ARGS      extra stackd options appended last (split on spaces), e.g. "--log-level debug"
#   STACKD_CONTROL   control socket passed as --control               [default: stackd's own]
#   STACKD_IF        the interface holding the address                [default: eth0]
#   STACKD_BRIDGE    the bridge created in this namespace             [default: br0]
#   STACKD_TUN_DEV   the tun device to check                          [default: /dev/net/tun]
#   STACKD_IP        ADDR/PREFIX, when eth0 has no address and no saved one
#   STACKD_GATEWAY   gateway, when there is no default route and no saved one
#   STACKD_DAD       1: refuse if another host already answers ARP for the address [default: 1]
#
# Exit codes (before stackd starts; after `exec` they are stackd's):
#   2 bad arguments  3 missing NET_ADMIN or tun device  4 network state refuses (no eth0, no
#   address, address in use, tap busy)  5 stackd not found  1 a step failed (rolled back)
#
# Restarts: the address and gateway are saved in eth0's interface alias
# (/sys/class/net/eth0/ifalias), so a second run in the same namespace (tap0 and br0
# already there, the address already removed) finds them and carries on.
# Failures: every change is recorded with its undo; a failing step undoes them all
# (trap), so the namespace is left as it was found, never half rewired.
set -Eeuo pipefail

readonly PROG=stack-entrypoint
readonly ALIAS_TAG=stackd-entrypoint
IF="${STACKD_IF:-eth0}"
BR="${STACKD_BRIDGE:-br0}"
TUN_DEV="${STACKD_TUN_DEV:-/dev/net/tun}"
HERE="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"

say() { echo "$PROG: $*"; }
die() { # code message...
  local code="$1"
  shift
  echo "$PROG: error: $*" >&2
  exit "$code"
}

# ---------------------------------------------------------------------------------------
# Every command that changes something goes through run (prints it) and records its undo.
# STACKD_ENTRYPOINT_TEST_FAIL_ON=TEXT makes the first command containing TEXT fail (tests).
# ---------------------------------------------------------------------------------------
UNDO=()
run() {
  echo "+ $*"
  if [[ -n ${STACKD_ENTRYPOINT_TEST_FAIL_ON:-} && "$*" == *"${STACKD_ENTRYPOINT_TEST_FAIL_ON}"* ]]; then
    STACKD_ENTRYPOINT_TEST_FAIL_ON=""
    echo "$PROG: (test hook) simulating failure of: $*" >&2
    return 1
  fi
  "$@"
}
undo_push() { UNDO+=("$*"); } # a command line, run with eval on rollback (arguments are ours)

rollback() {
  local rc="$1" i
  trap - ERR INT TERM
  set +e
  echo "$PROG: error: setup failed (exit $rc) at: ${LAST:-?}" >&2
  if ((${#UNDO[@]})); then
    echo "$PROG: rolling back ${#UNDO[@]} change(s) so the namespace is left as it was" >&2
    for ((i = ${#UNDO[@]} - 1; i >= 0; i--)); do
      echo "+ ${UNDO[i]} (undo)"
      eval "${UNDO[i]}" || echo "$PROG: warning: undo failed: ${UNDO[i]}" >&2
    done
  fi
  exit 1
}

# ---------------------------------------------------------------------------------------
# Small readers (never change anything)
# ---------------------------------------------------------------------------------------
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }
link_kind() { # "tun", "bridge", "veth", ... ("" for a plain device)
  local d
  d="$(ip -d -o link show dev "$1" 2>/dev/null || true)"
  if [[ $d == *" tun type tap "* || $d == *" tun type tap"$'\n'* ]]; then echo tap; return; fi
  if [[ $d == *" tun type tun "* ]]; then echo tun; return; fi
  if [[ $d =~ \ (bridge|veth|dummy|vxlan|macvlan|ipvlan)\  ]]; then echo "${BASH_REMATCH[1]}"; return; fi
  echo other
}
link_master() { { ip -o link show dev "$1" 2>/dev/null || true; } | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }
link_flags() { { ip -o link show dev "$1" 2>/dev/null || true; } | sed -n 's/^[0-9]*: [^:]*: <\([^>]*\)>.*/\1/p'; }
ipv4_of() { { ip -4 -o addr show dev "$1" scope global 2>/dev/null || true; } | awk '{print $4}'; }
all_ipv4() { { ip -4 -o addr show 2>/dev/null || true; } | awk '{print $2, $4}'; }
default_gw() { { ip -4 route show default 2>/dev/null || true; } | awk '$1 == "default" && $2 == "via" {print $3; exit}'; }
read_alias() { cat "/sys/class/net/$1/ifalias" 2>/dev/null || true; }

set_sysctl() { # key value: best effort (Docker mounts /proc/sys read-only; compose sysctls: then)
  local f="/proc/sys/${1//.//}"
  [[ -e $f ]] || return 0
  [[ "$(cat "$f" 2>/dev/null)" == "$2" ]] && return 0
  echo "+ echo $2 > $f"
  if ! (echo "$2" >"$f") 2>/dev/null; then
    say "note: could not set $1=$2 ($f is read-only here; set it with docker run --sysctl / compose sysctls:)"
  fi
}

has_cap_net_admin() {
  local line hex
  while read -r line; do
    if [[ $line == CapEff:* ]]; then hex="${line#CapEff:}"; hex="${hex//[[:space:]]/}"; fi
  done </proc/self/status
  [[ -n ${hex:-} ]] || return 1
  (((16#$hex >> 12) & 1)) # CAP_NET_ADMIN = 12
}

usage() {
  sed -n '2,/^set -Eeuo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------------------------------
# Arguments: stackd's. Find the tap name; refuse --ip/--gateway (they are derived here).
# ---------------------------------------------------------------------------------------
if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage; exit 0; fi
ARGS=("$@")
if ((${#ARGS[@]} == 0)); then ARGS=(--workers "${STACKD_WORKERS:-4}" --tap "${STACKD_TAP:-tap0}"); fi
read -r -a EXTRA <<<"${STACKD_ARGS:-}"
TAP=""
prev=""
for a in "${ARGS[@]}" "${EXTRA[@]}"; do
  case "$a" in
    --ip | --ip=* | --gateway | --gateway=*)
      die 2 "do not pass $a: the address and gateway come from $IF (override with STACKD_IP=ADDR/PREFIX, STACKD_GATEWAY=ADDR)" ;;
    --tap=*) TAP="${a#--tap=}" ;;
  esac
  [[ $prev == --tap ]] && TAP="$a"
  prev="$a"
done
if [[ -z $TAP ]]; then TAP="${STACKD_TAP:-tap0}"; ARGS+=(--tap "$TAP"); fi
[[ $TAP =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die 2 "invalid tap name '$TAP'"

# The stackd command: STACKD_BIN, else the build next to this script (repo: dist/, image:
# /app/dist/), else `stackd` on PATH. Checked before anything changes.
if [[ -n ${STACKD_BIN:-} ]]; then
  read -r -a BIN <<<"$STACKD_BIN"
elif [[ -f "$HERE/../dist/src/cli/stackd.js" ]]; then
  BIN=(node "$(cd -P -- "$HERE/.." && pwd)/dist/src/cli/stackd.js")
else
  BIN=(stackd)
fi
command -v "${BIN[0]}" >/dev/null 2>&1 || die 5 "stackd not found: '${BIN[0]}' is not on PATH (build with npm run build, or set STACKD_BIN)"
if [[ ${#BIN[@]} -ge 2 && ${BIN[1]} == *.js && ! -f ${BIN[1]} ]]; then
  die 5 "stackd not found: ${BIN[1]} does not exist (run npm run build, or set STACKD_BIN)"
fi

# ---------------------------------------------------------------------------------------
# Preconditions: nothing has been changed yet, so a refusal leaves no trace.
# ---------------------------------------------------------------------------------------
command -v ip >/dev/null 2>&1 || die 3 "'ip' not found: install iproute2"
has_cap_net_admin || die 3 "no CAP_NET_ADMIN: creating tap0 and br0 needs it; run the container with --cap-add NET_ADMIN (compose: cap_add: [NET_ADMIN])"
[[ -e $TUN_DEV ]] || die 3 "$TUN_DEV is missing: a TAP device needs it; run the container with --device /dev/net/tun (compose: devices: [\"/dev/net/tun:/dev/net/tun\"])"
[[ -c $TUN_DEV ]] || die 3 "$TUN_DEV is not a character device (expected the tun driver's 10,200)"
if ! (: <>"$TUN_DEV") 2>/dev/null; then
  die 3 "cannot open $TUN_DEV (device not allowed in this container? use --device /dev/net/tun)"
fi

link_exists "$IF" || die 4 "no interface $IF here: is the container attached to a network (not network_mode: none)? set STACKD_IF to use another"
MAC="$(cat "/sys/class/net/$IF/address")"

if link_exists "$TAP"; then
  [[ "$(link_kind "$TAP")" == tap ]] || die 4 "$TAP exists but is not a TAP device ($(link_kind "$TAP")); remove it or pick another --tap"
  [[ ",$(link_flags "$TAP")," == *,LOWER_UP,* ]] && die 4 "$TAP is in use (carrier up: a stackd is attached to it); stop that stackd first"
fi
if link_exists "$BR"; then
  [[ "$(link_kind "$BR")" == bridge ]] || die 4 "$BR exists but is not a bridge; remove it or set STACKD_BRIDGE"
fi
IF_MASTER="$(link_master "$IF")"
[[ -z $IF_MASTER || $IF_MASTER == "$BR" ]] || die 4 "$IF is already a port of $IF_MASTER, not $BR"

# Address, prefix and gateway: the override, else what eth0 holds now, else what a previous
# run saved in eth0's alias (the address is gone from eth0 after the first run).
CUR_ADDR="$(ipv4_of "$IF" | head -n 1)"
CUR_GW="$(default_gw)"
OLD_ALIAS="$(read_alias "$IF")"
SAVED_ADDR="" SAVED_GW=""
if [[ $OLD_ALIAS == "$ALIAS_TAG "* ]]; then
  SAVED_ADDR="$(sed -n 's/.* ip=\([^ ]*\).*/\1/p' <<<"$OLD_ALIAS")"
  SAVED_GW="$(sed -n 's/.* gw=\([^ ]*\).*/\1/p' <<<"$OLD_ALIAS")"
fi
ADDR="${STACKD_IP:-${CUR_ADDR:-$SAVED_ADDR}}"
GW="${STACKD_GATEWAY:-${CUR_GW:-$SAVED_GW}}"
[[ -n $ADDR ]] || die 4 "$IF has no IPv4 address and no earlier run saved one; set STACKD_IP=ADDR/PREFIX"
[[ $ADDR =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$ ]] || die 4 "bad address '$ADDR' (expected ADDR/PREFIX)"
[[ -z $GW || $GW =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || die 4 "bad gateway '$GW'"
IP_ONLY="${ADDR%/*}"
if [[ -n $CUR_ADDR && $CUR_ADDR != "$ADDR" ]]; then
  die 4 "$IF holds $CUR_ADDR but STACKD_IP says $ADDR; they must match (the kernel must let go of the address stackd takes)"
fi
if [[ -n $CUR_ADDR ]]; then STATE="first run: $IF holds $ADDR"; else STATE="restart: $ADDR already removed from $IF"; fi
say "$STATE; mac $MAC; gateway ${GW:-none}; tap $TAP; bridge $BR"
[[ -n $GW ]] || say "note: no gateway: stackd will reach only its own subnet"

# Nobody else may answer for the address (a second stack container, a leftover stackd, a
# host with the same IP): ask with an ARP probe from 0.0.0.0 (RFC 5227) on the wire side
# (eth0 on a first run, br0 on a restart). The kernel does not answer its own probe.
if [[ ${STACKD_DAD:-1} != 0 ]] && command -v arping >/dev/null 2>&1; then
  probe_if="$IF"
  [[ $IF_MASTER == "$BR" ]] && probe_if="$BR"
  echo "+ arping -0 -r -c 1 -w 0.5 -i $probe_if $IP_ONLY   # duplicate address check"
  set +e
  owner="$(timeout 5 arping -0 -r -c 1 -w 0.5 -i "$probe_if" "$IP_ONLY" 2>/dev/null | head -n 1)"
  set -e
  if [[ -n $owner ]]; then
    die 4 "$IP_ONLY is already in use on the network: $owner answers ARP for it (another stackd or host?); stop it, or give this container another address"
  fi
fi

# ---------------------------------------------------------------------------------------
# Rewire. From here on, a failing step rolls everything back.
# ---------------------------------------------------------------------------------------
LAST=""
trap 'rollback $? "$LAST"' ERR
trap 'LAST="signal"; rollback 130' INT TERM
step() { LAST="$*"; run "$@"; }

# Remember the address and gateway on eth0 itself: it lives and dies with this namespace.
NEW_ALIAS="$ALIAS_TAG ip=$ADDR gw=${GW:-none}"
if [[ $OLD_ALIAS != "$NEW_ALIAS" ]]; then
  step ip link set dev "$IF" alias "$NEW_ALIAS"
  if [[ -n $OLD_ALIAS ]]; then undo_push "ip link set dev $IF alias '$OLD_ALIAS'"; else undo_push "echo > /sys/class/net/$IF/ifalias"; fi
fi
[[ $GW == none ]] && GW=""

# Docker leaves IPv6 on in a container unless told otherwise; stackd speaks IPv4 only and
# the kernel's IPv6 (router solicitations, MLD) would only add noise on the tap.
set_sysctl net.ipv6.conf.all.disable_ipv6 1
set_sysctl net.ipv6.conf.default.disable_ipv6 1
# With br_netfilter loaded (Docker loads it), frames crossing br0 would go through this
# namespace's iptables and malformed IPv4 would be dropped before stackd sees it
# (docs/decisions/0007). Per-namespace since Linux 5.3; read-only in a plain container.
set_sysctl net.bridge.bridge-nf-call-iptables 0
set_sysctl net.bridge.bridge-nf-call-arptables 0

# tap0: stackd's network card, persistent so it exists before stackd attaches.
if link_exists "$TAP"; then
  say "$TAP already exists (restart?): reusing it"
else
  step ip tuntap add dev "$TAP" mode tap
  undo_push "ip link del $TAP"
fi

# br0: a switch inside the container joining eth0 (the Docker network) and tap0. It gets
# eth0's MAC so its address is stable (a bridge otherwise borrows its lowest port MAC).
if link_exists "$BR"; then
  say "$BR already exists (restart?): reusing it"
else
  step ip link add "$BR" address "$MAC" type bridge stp_state 0 forward_delay 0
  undo_push "ip link del $BR"
fi

# The kernel lets go of the address: no more ARP replies or pings from it for 10.10.0.4
# (with the address on any interface, the kernel would answer ARP for it on br0 too).
if [[ -n $CUR_ADDR ]]; then
  step ip addr del "$ADDR" dev "$IF"
  # (undone last-in first-out: the address comes back before the route that needs it)
  if [[ -n $CUR_GW ]]; then undo_push "ip route replace default via $CUR_GW dev $IF"; fi
  undo_push "ip addr add $ADDR dev $IF"
fi

if [[ "$(link_master "$IF")" != "$BR" ]]; then
  step ip link set dev "$IF" master "$BR"
  undo_push "ip link set dev $IF nomaster"
fi
if [[ "$(link_master "$TAP")" != "$BR" ]]; then
  step ip link set dev "$TAP" master "$BR"
  undo_push "ip link set dev $TAP nomaster"
fi
for dev in "$TAP" "$BR" "$IF"; do
  if [[ ",$(link_flags "$dev")," != *,UP,* ]]; then step ip link set dev "$dev" up; fi
done

# The kernel must not hold the address anywhere in this namespace any more.
LAST="check that the kernel no longer owns $IP_ONLY"
held="$(all_ipv4)"
if [[ $'\n'"$held" == *[[:space:]]"$IP_ONLY/"* ]]; then
  echo "$PROG: error: the kernel still holds $IP_ONLY: ${held//$'\n'/; }" >&2
  false
fi

CMD=("${BIN[@]}" --ip "$ADDR")
[[ -n $GW ]] && CMD+=(--gateway "$GW")
[[ -n ${STACKD_CONTROL:-} ]] && CMD+=(--control "$STACKD_CONTROL")
CMD+=("${ARGS[@]}" "${EXTRA[@]}")
trap - ERR INT TERM
say "$IF and $TAP are ports of $BR; the kernel no longer owns $IP_ONLY; starting stackd"
echo "+ exec ${CMD[*]}"
exec "${CMD[@]}"
