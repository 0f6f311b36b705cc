#!/usr/bin/env bash
# docker/load.sh — many concurrent clients against stackd, bounded in count and in time.
#
# Runs LOAD_CLIENTS clients at once; each one pings (LOAD_PINGS echo requests), sends
# LOAD_DATAGRAMS datagrams to the UDP echo service with nc and checks every echo, and, once
# stackd speaks TCP, makes LOAD_HTTP_REQUESTS requests with curl (plus one wrk run when
# wrk is installed). Every command runs under `timeout`, every client stops by
# LOAD_DURATION seconds, and the script by LOAD_DURATION + 15 s at the latest.
#
# In compose:  docker compose --profile load up load
# In the lab:  bash lab/lab.sh exec c1 docker/load.sh
#
# Environment (defaults):
#   LOAD_TARGET=10.10.0.4  LOAD_CLIENTS=16 (1..256)  LOAD_DURATION=30 (s, 1..600)
#   LOAD_PINGS=50 (0..10000 per client)  LOAD_PING_INTERVAL=0.05 (s)
#   LOAD_DATAGRAMS=50 (0..10000 per client)  LOAD_UDP_PORT=7
#   LOAD_HTTP=auto (auto: only if TCP port 80 answers; 1: required; 0: off)
#   LOAD_HTTP_REQUESTS=20 (per client)  LOAD_WRK_SECONDS=min(LOAD_DURATION,10) (0: no wrk)
#   LOAD_MAX_LOSS_PCT=1 (allowed loss, whole percent)
# Exit: 0 all within the allowed loss, 1 too much loss (or HTTP required but absent),
#       2 bad settings.
set -uo pipefail

TARGET="${LOAD_TARGET:-10.10.0.4}"
CLIENTS="${LOAD_CLIENTS:-16}"
DURATION="${LOAD_DURATION:-30}"
PINGS="${LOAD_PINGS:-50}"
PING_INTERVAL="${LOAD_PING_INTERVAL:-0.05}"
DATAGRAMS="${LOAD_DATAGRAMS:-50}"
UDP_PORT="${LOAD_UDP_PORT:-7}"
HTTP="${LOAD_HTTP:-auto}"
HTTP_REQUESTS="${LOAD_HTTP_REQUESTS:-20}"
MAX_LOSS="${LOAD_MAX_LOSS_PCT:-1}"
WRK_SECONDS="${LOAD_WRK_SECONDS:-}"

die() {
  echo "load: error: $*" >&2
  exit 2
}
int_in() { [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)) || die "$1 must be $3..$4 (got '$2')"; }
int_in LOAD_CLIENTS "$CLIENTS" 1 256
int_in LOAD_DURATION "$DURATION" 1 600
int_in LOAD_PINGS "$PINGS" 0 10000
int_in LOAD_DATAGRAMS "$DATAGRAMS" 0 10000
int_in LOAD_HTTP_REQUESTS "$HTTP_REQUESTS" 0 10000
int_in LOAD_UDP_PORT "$UDP_PORT" 1 65535
int_in LOAD_MAX_LOSS_PCT "$MAX_LOSS" 0 100
[[ -n $WRK_SECONDS ]] || WRK_SECONDS=$((DURATION < 10 ? DURATION : 10))
int_in LOAD_WRK_SECONDS "$WRK_SECONDS" 0 "$DURATION"
[[ $TARGET =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || die "LOAD_TARGET must be an IPv4 address (got '$TARGET')"
[[ $PING_INTERVAL =~ ^[0-9]*\.?[0-9]+$ ]] || die "LOAD_PING_INTERVAL must be a number of seconds"
[[ $HTTP =~ ^(auto|0|1)$ ]] || die "LOAD_HTTP must be auto, 0 or 1 (got '$HTTP')"
for t in timeout ping nc; do command -v "$t" >/dev/null 2>&1 || die "'$t' not found (client image: iputils-ping netcat-openbsd coreutils)"; done

OUT="$(mktemp -d "${TMPDIR:-/tmp}/stackd-load.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  rm -rf -- "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Does anything answer TCP on port 80? (stackd answers only once TCP lands: issue 3)
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$TARGET/80" 2>/dev/null; }
USE_HTTP=0
HTTP_NOTE=""
case "$HTTP" in
  0) HTTP_NOTE="off (LOAD_HTTP=0)" ;;
  1 | auto)
    if ! command -v curl >/dev/null 2>&1; then
      HTTP_NOTE="skipped: curl not installed"
    elif tcp_open; then
      USE_HTTP=1
    else
      HTTP_NOTE="skipped: nothing answers TCP on $TARGET:80 (stackd's TCP is pending, issue 3)"
    fi
    ;;
esac
if [[ $HTTP == 1 && $USE_HTTP == 0 ]]; then echo "load: error: LOAD_HTTP=1 but HTTP $HTTP_NOTE" >&2; exit 1; fi

echo "load: target $TARGET, $CLIENTS clients, at most ${DURATION} s; per client: $PINGS pings, $DATAGRAMS UDP datagrams to port $UDP_PORT, $([[ $USE_HTTP == 1 ]] && echo "$HTTP_REQUESTS HTTP requests" || echo "no HTTP")"

client() {
  local i="$1" out="$OUT/c$1" sent got j code ok=0
  # ping, alongside the rest, bounded by timeout (not -w: with -w, ping sends extra
  # requests until it has -c replies, so slow replies would count as more than sent)
  if ((PINGS > 0)); then
    (
      got="$(timeout $((DURATION + 5)) ping -n -q -c "$PINGS" -i "$PING_INTERVAL" -W 1 "$TARGET" 2>/dev/null |
        sed -n 's/.* packets transmitted, \([0-9]*\) received.*/\1/p')"
      echo "ping $PINGS ${got:-0}" >"$out.ping"
    ) &
  fi
  # UDP echo: one nc per client, one datagram per line; every echo must come back intact
  if ((DATAGRAMS > 0)); then
    got="$(for ((j = 1; j <= DATAGRAMS; j++)); do printf 'load c%d d%d\n' "$i" "$j"; sleep 0.01; done |
      timeout $((DURATION + 5)) nc -u -n -w 2 "$TARGET" "$UDP_PORT" 2>/dev/null |
      grep -E "^load c$i d[0-9]+\$" | sort -u | grep -c . || true)"
    echo "udp $DATAGRAMS ${got:-0}" >>"$out"
  fi
  if ((USE_HTTP && HTTP_REQUESTS > 0)); then
    for ((j = 1; j <= HTTP_REQUESTS; j++)); do
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$TARGET/" 2>/dev/null || true)"
      [[ $code == 2* ]] && ok=$((ok + 1))
    done
    echo "http $HTTP_REQUESTS $ok" >>"$out"
  fi
  wait
}

START=$SECONDS
for ((i = 1; i <= CLIENTS; i++)); do
  client "$i" &
  PIDS+=($!)
done
WRK_LINE=""
if ((USE_HTTP && WRK_SECONDS > 0)) && command -v wrk >/dev/null 2>&1; then
  WRK_LINE="$(timeout $((WRK_SECONDS + 5)) wrk -t "$((CLIENTS < 2 ? 1 : 2))" -c "$CLIENTS" -d "${WRK_SECONDS}s" "http://$TARGET/" 2>&1 |
    grep -E 'Requests/sec|requests in|Non-2xx|Socket errors' | sed 's/^ *//' | paste -sd ' ' -)"
fi
# Bounded wait: every client has its own timeouts; past DURATION + 15 s the rest is killed.
for p in "${PIDS[@]}"; do
  while kill -0 "$p" 2>/dev/null; do
    if ((SECONDS - START > DURATION + 15)); then
      echo "load: warning: client pid $p still running after $((DURATION + 15)) s: stopping it" >&2
      kill -TERM "$p" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  wait "$p" 2>/dev/null || true
done

fail=0
report() { # kind label
  local sent got pct
  read -r sent got < <(cat "$OUT"/c* 2>/dev/null | awk -v k="$1" '$1 == k {s += $2; g += $3} END {print s + 0, g + 0}')
  ((sent > 0)) || return 0
  pct=$(((sent - got) * 100 / sent))
  printf 'load: %-5s %d/%d %s (%d%% lost)\n' "$1" "$got" "$sent" "$2" "$pct"
  if ((pct > MAX_LOSS)); then fail=1; fi
}
report ping "echo replies"
report udp "echoes"
report http "2xx responses"
[[ -n $HTTP_NOTE ]] && echo "load: http  $HTTP_NOTE"
[[ -n $WRK_LINE ]] && echo "load: wrk   $WRK_LINE"
echo "load: took $((SECONDS - START)) s"
if ((fail)); then
  echo "load: FAILED: more than ${MAX_LOSS}% lost"
  exit 1
fi
echo "load: ok"
