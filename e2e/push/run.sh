#!/usr/bin/env bash
# op25b push lab: hot swaps through the API change what a real TCP client sees,
# and long-lived TCP sessions through op25bd survive many swaps.
#
#   ns op25b-psub-ID  s0 ==veth== sa  [ns op25b-pbox-ID: op25bd on net_af_packet, API on 127.0.0.1]  va ==veth== v0  ns op25b-psrv-ID
#   subscribers                        port 0 (access)                       port 1 (core)                  echo servers on 25 and 587
#
# Checks:
#  1. monitor config: a new connection from the dynamic address to port 25 opens.
#  2. while SWAPS pushes alternate enforce/monitor, two long-lived sessions (dynamic
#     address to 587, fixed address to 25) keep echoing, never broken; every push
#     answered 200 with consecutive generations.
#  3. a push of the enforce config makes a new connection to port 25 get refused (RST)
#     within 1 s of the push being answered; the sessions still echo afterwards.
#  4. op25bd stops cleanly on SIGTERM and logged the swaps.
# Exit: 0 passed, 1 a check failed, 2 setup failed, 77 skipped (no root / namespaces).
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$DIR/../.." && pwd)"
readonly DIR REPO EXIT_FAIL=1 EXIT_SETUP=2 EXIT_SKIP=77
readonly SUB_DYN4=198.51.100.7 SUB_FIX4=198.51.100.201 MX4=192.0.2.25
readonly API=127.0.0.1:9025
SWAPS=200
OP25BD_BIN="${OP25BD:-}"
KEEP=0

usage() {
  cat <<EOF
Usage: e2e/push/run.sh [--op25bd PATH] [--swaps N] [--keep]

Network-namespace lab for the push API: a push changes what a real TCP client
sees within a second, and long-lived TCP sessions survive many swaps.

  --op25bd PATH  the binary (default \$OP25BD, else cargo build --release -p op25bd)
  --swaps N      pushes while the sessions run (default 200)
  --keep         keep the work directory on success too
Exit status: 0 passed, 1 a check failed, 2 setup failed, 77 skipped. Needs root.
EOF
}
while [ $# -gt 0 ]; do
  case "$1" in
    --op25bd) OP25BD_BIN="${2:?--op25bd needs a path}"; shift 2 ;;
    --swaps) SWAPS="${2:?--swaps needs a number}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "e2e/push/run.sh: unknown argument '$1' (see --help)" >&2; exit $EXIT_SETUP ;;
  esac
done
[[ "$SWAPS" =~ ^[1-9][0-9]*$ ]] || { echo "--swaps must be a positive number" >&2; exit $EXIT_SETUP; }

log() { printf '%s push-lab: %s\n' "$(date +%T.%3N)" "$*"; }
skip() {
  printf '\n################################################################\n# SKIPPED: op25b push lab: %s\n################################################################\n\n' "$*" >&2
  exit $EXIT_SKIP
}
die() { echo "e2e/push/run.sh: setup failed: $*" >&2; exit $EXIT_SETUP; }
PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); printf '  PASS  %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf '  FAIL  %s\n' "$*"; }

# --- preflight ---
[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces (uid $(id -u))"
if ! command -v ip >/dev/null 2>&1 || ! command -v ethtool >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
  bash "$REPO/.ci/install-deps" iproute2 ethtool jq >&2 || skip "iproute2, ethtool or jq missing and not installable"
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3 || true)"
[ -n "$PY" ] || skip "python3 is missing"
probe="op25b-pprobe-$$"
ip netns add "$probe" 2>/dev/null || skip "'ip netns add' fails here (no CAP_SYS_ADMIN or no netns support)"
if ! ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null; then
  ip netns del "$probe"; skip "veth pairs cannot be created in a network namespace here"
fi
ip netns del "$probe"

if [ -z "$OP25BD_BIN" ]; then
  log "cargo build --release -p op25bd"
  (cd "$REPO" && cargo build --release -p op25bd) >&2 || die "cargo build failed"
  OP25BD_BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/op25bd"
fi
[ -x "$OP25BD_BIN" ] || die "op25bd binary '$OP25BD_BIN' is not executable"

# --- lab ---
ID="$$"
while ip netns list | grep -qE "^op25b-p(sub|box|srv)-$ID( |$)"; do ID="$$-$RANDOM"; done
SUB="op25b-psub-$ID" BOX="op25b-pbox-$ID" SRV="op25b-psrv-$ID"
NSES=("$SUB" "$BOX" "$SRV")
PREFIX="op25b-push-$ID"
WORK="$(mktemp -d /tmp/op25b-push.XXXXXX)"
OP25BD_PID="" BG_PIDS=() CLEANED=0
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local rc=$? pid ns
  [ "$CLEANED" = 1 ] && return
  CLEANED=1
  set +e
  [ -n "$OP25BD_PID" ] && kill -TERM "$OP25BD_PID" 2>/dev/null && wait "$OP25BD_PID" 2>/dev/null
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for ns in "${NSES[@]}"; do
    ip netns list | grep -q "^$ns\b" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "/var/run/dpdk/$PREFIX"
  if [ "$rc" -eq 0 ] && [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "push-lab: work directory kept: $WORK" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit $EXIT_SETUP' INT TERM

for ns in "${NSES[@]}"; do
  ip netns add "$ns" || die "ip netns add $ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || die "sysctl in $ns"
done
ip link add s0 netns "$SUB" type veth peer name sa netns "$BOX" || die "veth s0--sa"
ip link add v0 netns "$SRV" type veth peer name va netns "$BOX" || die "veth v0--va"
for pair in "$SUB s0" "$BOX sa" "$BOX va" "$SRV v0"; do
  read -r ns dev <<<"$pair"
  # Software checksums, wire-sized frames (see e2e/run.sh).
  ip netns exec "$ns" ethtool -K "$dev" rx off tx off >/dev/null 2>&1 || die "ethtool -K $dev in $ns"
  ip netns exec "$ns" ethtool -K "$dev" sg off tso off gso off gro off >/dev/null 2>&1 || true
  ip -n "$ns" link set "$dev" up
done
ip -n "$BOX" link set sa promisc on
ip -n "$BOX" link set va promisc on
ip -n "$SUB" addr add "$SUB_DYN4/32" dev s0
ip -n "$SUB" addr add "$SUB_FIX4/32" dev s0
ip -n "$SRV" addr add "$MX4/32" dev v0
ip -n "$SUB" route add default dev s0
ip -n "$SRV" route add default dev v0

lab() { ip netns exec "$1" "$PY" "$DIR/lab.py" "${@:2}"; }

lab "$SRV" serve --ports 25,587 >"$WORK/serve.log" 2>&1 &
BG_PIDS+=($!)

log "starting op25bd (monitor config, API on $API in the box namespace)"
cp "$DIR/monitor.yaml" "$WORK/op25b.yaml"
ip netns exec "$BOX" "$OP25BD_BIN" --no-huge --no-pci -l 0-1 -m 256 --file-prefix "$PREFIX" \
  --log-level='*:warning' --vdev=net_af_packet0,iface=sa --vdev=net_af_packet1,iface=va \
  -- --config "$WORK/op25b.yaml" --api "$API" --stats-json "$WORK/stats.json" \
  >"$WORK/op25bd.out" 2>"$WORK/op25bd.log" &
OP25BD_PID=$!
ready=0
for _ in $(seq 75); do
  kill -0 "$OP25BD_PID" 2>/dev/null || { wait "$OP25BD_PID" || true; OP25BD_PID=""; die "op25bd exited at start: $(cat "$WORK/op25bd.log")"; }
  if [ "$(lab "$SUB" connect --src "$SUB_FIX4" --dst "$MX4" --port 587)" = open ]; then ready=1; break; fi
  sleep 0.2
done
[ "$ready" = 1 ] || die "no TCP connection crossed op25bd within 15 s: $(cat "$WORK/op25bd.log" "$WORK/serve.log")"

# 1. monitor: port 25 opens.
r="$(lab "$SUB" connect --src "$SUB_DYN4" --dst "$MX4" --port 25)"
if [ "$r" = open ]; then pass "monitor: a new connection from the dynamic pool to port 25 opens"
else fail "monitor: dynamic -> 25 should open, got '$r'"; fi

# 2. long-lived sessions across many swaps.
lab "$SUB" session --src "$SUB_DYN4" --dst "$MX4" --port 587 --stop "$WORK/stop" --out "$WORK/s587.json" &
S1=$!; BG_PIDS+=("$S1")
lab "$SUB" session --src "$SUB_FIX4" --dst "$MX4" --port 25 --stop "$WORK/stop" --out "$WORK/s25.json" &
S2=$!; BG_PIDS+=("$S2")
sleep 0.5
log "$SWAPS pushes alternating enforce/monitor while the sessions run"
swaps="$(lab "$BOX" swaps --api "$API" --count "$SWAPS" --files "$DIR/enforce.yaml,$DIR/monitor.yaml")"
echo "$swaps" >"$WORK/swaps.json"
pushed="$(jq -r .pushed <<<"$swaps")"
consecutive="$(jq -r '.generations as $g | [range(1; $g|length)] | all(. as $i | $g[$i] == $g[$i-1] + 1)' <<<"$swaps")"
if [ "$pushed" = "$SWAPS" ] && [ "$consecutive" = true ]; then
  pass "$SWAPS pushes answered 200 with consecutive generations ($(jq -r '.generations[0]' <<<"$swaps")..$(jq -r '.generations[-1]' <<<"$swaps"), $(jq -r '.ms|floor' <<<"$swaps") ms)"
else fail "pushes: $pushed of $SWAPS accepted, consecutive=$consecutive: $(jq -c .bad <<<"$swaps" | head -c 400)"; fi

# 3. enforce: a new connection to 25 is refused within 1 s of the push.
lab "$SUB" probe --src "$SUB_DYN4" --dst "$MX4" --port 25 --out "$WORK/probe.json" --ready "$WORK/probe.ready" &
P=$!; BG_PIDS+=("$P")
for _ in $(seq 100); do [ -e "$WORK/probe.ready" ] && break; sleep 0.05; done
[ -e "$WORK/probe.ready" ] || fail "probe: no connection opened under the monitor config"
lab "$BOX" push --api "$API" --file "$DIR/enforce.yaml" --out "$WORK/push.json"
wait "$P" || true
status="$(jq -r .status "$WORK/push.json")"
delay="$(jq -rn --slurpfile p "$WORK/push.json" --slurpfile q "$WORK/probe.json" '($q[0].refused_at_ms // 1e18) - $p[0].done_ms | floor')"
after_sent="$(jq -rn --slurpfile p "$WORK/push.json" --slurpfile q "$WORK/probe.json" '($q[0].refused_at_ms // 1e18) - $p[0].sent_ms | floor')"
early="$(jq -rn --slurpfile p "$WORK/push.json" --slurpfile q "$WORK/probe.json" '($q[0].refused_at_ms // 1e18) < $p[0].sent_ms')"
if [ "$status" = 200 ] && [ "$early" = false ] && [ "$delay" -lt 1000 ]; then
  pass "enforce push: a new connection to port 25 was refused (RST) ${after_sent} ms after the push was sent, ${delay} ms from its answer (< 1000 ms)"
else fail "enforce push: status $status, refused $delay ms after the answer (early=$early): $(cat "$WORK/probe.json")"; fi

# The sessions still echo after the last swap; then they end.
sleep 0.3
touch "$WORK/stop"
wait "$S1" || true
wait "$S2" || true
for s in s587 s25; do
  f="$WORK/$s.json"
  if [ "$(jq -r .ok "$f" 2>/dev/null)" = true ] && [ "$(jq -r .round_trips "$f")" -gt 50 ]; then
    pass "long-lived session ($s) survived $((SWAPS + 1)) swaps: $(jq -r .round_trips "$f") round trips, longest gap $(jq -r '.longest_gap_ms|floor' "$f") ms"
  else fail "long-lived session ($s) broke: $(cat "$f" 2>/dev/null || echo 'no result')"; fi
done

# 4. clean stop, swaps logged.
kill -TERM "$OP25BD_PID"; rc=0; wait "$OP25BD_PID" || rc=$?; OP25BD_PID=""
if [ "$rc" -eq 0 ]; then pass "op25bd stopped cleanly on SIGTERM (final generation $(jq -r .generation "$WORK/stats.json"))"
else fail "op25bd exited with $rc: $(tail -5 "$WORK/op25bd.log")"; fi
n="$(grep -c "config published" "$WORK/op25bd.log" || true)"
if [ "$n" -eq $((SWAPS + 1)) ]; then pass "every swap is logged with its generation, prefix counts, compile and grace-period time ($n)"
else fail "expected $((SWAPS + 1)) 'config published' log lines, found $n"; fi

echo "push-lab: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || exit $EXIT_FAIL
