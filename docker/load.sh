#!/usr/bin/env bash
# docker/load.sh — the compose load profile: many concurrent TCP clients against stackd
# with stackd-load (real nc and curl processes, every byte checked, bounded in count and in
# time; decision 0020), plus a ping and a UDP echo check alongside. Everything is bounded:
# stackd-load by LOAD_CLIENTS at once, LOAD_TOTAL in all and LOAD_DURATION (+ its per-client
# timeout), ping and nc by `timeout`.
#
# In compose:  docker compose --profile load up load
# In the lab:  bash lab/lab.sh exec c1 docker/load.sh        (after npm run build)
#
# Environment (defaults):
#   LOAD_TARGET=10.10.0.4  LOAD_CLIENTS=16 (1..1024 at once)  LOAD_TOTAL=1000 (1..1000000)
#   LOAD_DURATION=30 (s, 1..600)  LOAD_MIX=nc-echo:40,curl-bytes:40,curl-post:20
#   LOAD_BYTES=1M (GET /bytes/N)  LOAD_MODE=process (or socket)  LOAD_TCP=1 (0: no stackd-load)
#   LOAD_CONTROL= (stackd's control socket, if reachable: its /stats over the run)
#   LOAD_PINGS=50 (0..10000)  LOAD_PING_INTERVAL=0.05 (s)  LOAD_DATAGRAMS=50 (0..10000)
#   LOAD_UDP_PORT=7  LOAD_MAX_LOSS_PCT=1 (ping and UDP loss allowed, whole percent)
# Exit: 0 every TCP client succeeded and ping/UDP within the allowed loss, 1 otherwise,
#       2 bad settings (or no stackd-load: build first).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="${LOAD_TARGET:-10.10.0.4}"
CLIENTS="${LOAD_CLIENTS:-16}"
TOTAL="${LOAD_TOTAL:-1000}"
DURATION="${LOAD_DURATION:-30}"
MIX="${LOAD_MIX:-nc-echo:40,curl-bytes:40,curl-post:20}"
BYTES="${LOAD_BYTES:-1M}"
MODE="${LOAD_MODE:-process}"
TCP="${LOAD_TCP:-1}"
CONTROL="${LOAD_CONTROL:-}"
PINGS="${LOAD_PINGS:-50}"
PING_INTERVAL="${LOAD_PING_INTERVAL:-0.05}"
DATAGRAMS="${LOAD_DATAGRAMS:-50}"
UDP_PORT="${LOAD_UDP_PORT:-7}"
MAX_LOSS="${LOAD_MAX_LOSS_PCT:-1}"
TOOL="${STACKD_LOAD:-$HERE/../dist/load/stackd-load.js}"

die() {
  echo "load: error: $*" >&2
  exit 2
}
int_in() { [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)) || die "$1 must be $3..$4 (got '$2')"; }
int_in LOAD_CLIENTS "$CLIENTS" 1 1024
int_in LOAD_TOTAL "$TOTAL" 1 1000000
int_in LOAD_DURATION "$DURATION" 1 600
int_in LOAD_PINGS "$PINGS" 0 10000
int_in LOAD_DATAGRAMS "$DATAGRAMS" 0 10000
int_in LOAD_UDP_PORT "$UDP_PORT" 1 65535
int_in LOAD_MAX_LOSS_PCT "$MAX_LOSS" 0 100
[[ $TARGET =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || die "LOAD_TARGET must be an IPv4 address (got '$TARGET')"
[[ $PING_INTERVAL =~ ^[0-9]*\.?[0-9]+$ ]] || die "LOAD_PING_INTERVAL must be a number of seconds"
[[ $TCP =~ ^(0|1)$ ]] || die "LOAD_TCP must be 0 or 1 (got '$TCP')"
[[ $MODE =~ ^(process|socket)$ ]] || die "LOAD_MODE must be process or socket (got '$MODE')"
for t in timeout ping nc curl; do command -v "$t" >/dev/null 2>&1 || die "'$t' not found (needs iputils-ping netcat-openbsd curl coreutils)"; done
if ((TCP)); then
  command -v node >/dev/null 2>&1 || die "'node' not found: stackd-load runs on Node.js"
  [[ -f $TOOL ]] || die "no stackd-load at $TOOL: build first (npm run build)"
fi

OUT="$(mktemp -d "${TMPDIR:-/tmp}/stackd-load.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  rm -rf -- "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "load: target $TARGET; TCP: $( ((TCP)) && echo "stackd-load, $CLIENTS at once, $TOTAL in all, at most ${DURATION} s, mix $MIX, $MODE mode" || echo off); $PINGS pings; $DATAGRAMS UDP datagrams to port $UDP_PORT"
START=$SECONDS

# ping, bounded by timeout (not -w: with -w, ping sends extra requests until it has -c
# replies, so slow replies would count as more than sent)
if ((PINGS > 0)); then
  (
    got="$(timeout $((DURATION + 5)) ping -n -q -c "$PINGS" -i "$PING_INTERVAL" -W 1 "$TARGET" 2>/dev/null |
      sed -n 's/.* packets transmitted, \([0-9]*\) received.*/\1/p')"
    echo "$PINGS ${got:-0}" >"$OUT/ping"
  ) &
  PIDS+=($!)
fi
# UDP echo: one nc, one datagram per line; every echo must come back intact
if ((DATAGRAMS > 0)); then
  (
    got="$(for ((j = 1; j <= DATAGRAMS; j++)); do printf 'load d%d\n' "$j"; sleep 0.01; done |
      timeout $((DURATION + 5)) nc -u -n -w 2 "$TARGET" "$UDP_PORT" 2>/dev/null |
      grep -E '^load d[0-9]+$' | sort -u | grep -c . || true)"
    echo "$DATAGRAMS ${got:-0}" >"$OUT/udp"
  ) &
  PIDS+=($!)
fi

fail=0
if ((TCP)); then
  args=(--target "$TARGET" --clients "$CLIENTS" --total "$TOTAL" --duration "${DURATION}s" --mix "$MIX" --bytes "$BYTES" --mode "$MODE")
  [[ -n $CONTROL ]] && args+=(--control "$CONTROL")
  # stackd-load bounds itself (duration + its per-client timeout); this timeout is a backstop.
  timeout $((DURATION + 60)) node "$TOOL" "${args[@]}"
  rc=$?
  case $rc in
    0) ;;
    2) exit 2 ;;
    *) fail=1 ;;
  esac
fi
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()

report() { # file label
  local sent got pct
  [[ -f $OUT/$1 ]] || return 0
  read -r sent got <"$OUT/$1"
  ((sent > 0)) || return 0
  pct=$(((sent - got) * 100 / sent))
  printf 'load: %-5s %d/%d %s (%d%% lost)\n' "$1" "$got" "$sent" "$2" "$pct"
  if ((pct > MAX_LOSS)); then fail=1; fi
}
report ping "echo replies"
report udp "echoes"
echo "load: took $((SECONDS - START)) s"
if ((fail)); then
  echo "load: FAILED"
  exit 1
fi
echo "load: ok"
