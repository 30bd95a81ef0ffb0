#!/usr/bin/env bash
# op25b end-to-end lab: a real MTA (Postfix) and a real mail client (swaks) talk
# through op25bd over veth pairs in network namespaces; tshark watches both sides.
#
#   ns op25b-sub-ID  s0 ==veth== sa  [ns op25b-box-ID: op25bd, net_af_packet on sa and va]  va ==veth== v0  ns op25b-srv-ID
#   subscribers                        port 0 (access)                 port 1 (core)                  MTA (25, 465, 587)
#
# See e2e/README.md for what it proves. Usage: e2e/run.sh [--help]
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$E2E_DIR/.." && pwd)"
readonly E2E_DIR REPO

# Exit codes: 0 every check passed, 1 a check failed, 2 the lab could not be set
# up (a bug or a broken machine), 77 skipped (no namespaces here, or tools missing
# and not installable) -- the automake convention, which the cargo test relies on.
readonly EXIT_FAIL=1 EXIT_SETUP=2 EXIT_SKIP=77

# --- lab addresses (documentation ranges only; configs/*.yaml say the same) ---
readonly SUB_DYN4=198.51.100.7 SUB_FIX4=198.51.100.201
readonly SUB_DYN6=2001:db8:100::7 SUB_FIX6=2001:db8:1ff::201
readonly MX4=192.0.2.25 RELAY4=203.0.113.25
readonly MX6=2001:db8:200::25 RELAY6=2001:db8:ff::25
readonly MAIL_DOMAIN=e2e.example
readonly SUB_ADDRS=("$SUB_DYN4" "$SUB_FIX4" "$SUB_DYN6" "$SUB_FIX6")
readonly SRV_ADDRS=("$MX4" "$RELAY4" "$MX6" "$RELAY6")
# Debian packages the lab needs (the Perl modules give swaks TLS and IPv6).
readonly PACKAGES=(iproute2 ethtool openssl iputils-ping jq postfix swaks tshark
  libnet-ssleay-perl libio-socket-ssl-perl libio-socket-inet6-perl)

usage() {
  cat <<EOF
Usage: e2e/run.sh [--op25bd PATH] [--phases LIST] [--keep] [--workdir DIR]
       e2e/run.sh --analyze DIR [--phases LIST]

Builds a network-namespace lab (subscriber ns -- op25bd -- server ns, IPv4 and
IPv6), runs a private Postfix on 25/465/587 in the server ns and swaks in the
subscriber ns, captures both sides with tshark, and checks what op25bd did.

  --op25bd PATH   the op25bd binary to test (default: \$OP25BD; without either,
                  \`cargo build --release -p op25bd\` runs first and its binary
                  in \$CARGO_TARGET_DIR or target/ is used)
  --phases LIST   comma-separated phases to run: enforce,monitor (default both)
  --keep          keep the work directory (captures, logs, Maildir) on success too
                  (it is always kept when a check fails)
  --workdir DIR   use DIR (created, must not exist) instead of a fresh /tmp dir
  --analyze DIR   no lab: only run the capture checks on PHASE-sub.pcapng and
                  PHASE-srv.pcapng in DIR (any pcap/pcapng; no root needed)
  -h, --help      this text

Exit status: 0 all checks passed, 1 a check failed, 2 the lab could not be set
up, 77 skipped (not root, network namespaces unavailable, or required Debian
packages missing and not installable). Needs root.
EOF
}

OP25BD_BIN="${OP25BD:-}"
PHASES="enforce,monitor"
KEEP=0
WORK=""
ANALYZE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --op25bd) OP25BD_BIN="${2:?--op25bd needs a path}"; shift 2 ;;
    --phases) PHASES="${2:?--phases needs a list}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --workdir) WORK="${2:?--workdir needs a directory}"; shift 2 ;;
    --analyze) ANALYZE="${2:?--analyze needs a directory}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "e2e/run.sh: unknown argument '$1' (see --help)" >&2; exit $EXIT_SETUP ;;
  esac
done
IFS=, read -r -a PHASE_LIST <<<"$PHASES"
for p in "${PHASE_LIST[@]}"; do
  case "$p" in enforce|monitor) ;; *) echo "e2e/run.sh: unknown phase '$p' (enforce, monitor)" >&2; exit $EXIT_SETUP ;; esac
done

log() { printf '%s e2e: %s\n' "$(date +%T.%3N)" "$*"; }
skip() {
  printf '\n################################################################\n' >&2
  printf '# SKIPPED: op25b e2e lab: %s\n' "$*" >&2
  printf '################################################################\n\n' >&2
  exit $EXIT_SKIP
}
die() { echo "e2e/run.sh: setup failed: $*" >&2; exit $EXIT_SETUP; }

# --- preflight: root, namespaces, packages ---------------------------------
preflight() {
  local probe tool
  [ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces (running as uid $(id -u))"
  command -v ip >/dev/null 2>&1 || bash "$REPO/.ci/install-deps" iproute2 >&2 \
    || skip "iproute2 is missing and cannot be installed"
  probe="op25b-probe-$$"
  if ! ip netns add "$probe" 2>/dev/null; then
    skip "'ip netns add' fails here (no CAP_SYS_ADMIN or no network namespace support)"
  fi
  if ! ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null; then
    ip netns del "$probe" 2>/dev/null || true
    skip "veth pairs cannot be created in a network namespace here"
  fi
  ip netns del "$probe"

  # Preseed so that installing postfix never configures (or starts) the machine's own
  # mail system, and dumpcap is not made setuid. Both only matter on a first install.
  if ! dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q "install ok installed"; then
    printf '%s\n' "postfix postfix/main_mailer_type select No configuration" \
      "postfix postfix/mailname string lab.invalid" | debconf-set-selections
  fi
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  # Installing an MTA replaces the one a workstation may have (exim4, ...): never do
  # that behind the user's back. CI images have none.
  local missing=() p removals
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    removals="$(apt-get -s -qq install --no-install-recommends "${missing[@]}" 2>/dev/null | awk '$1 == "Remv" {print $2}' | tr '\n' ' ')"
    [ -z "$removals" ] || skip "installing ${missing[*]} would remove: $removals-- install them yourself if that is what you want"
  fi
  if ! bash "$REPO/.ci/install-deps" "${PACKAGES[@]}" >&2; then
    skip "required Debian packages are missing and cannot be installed: ${PACKAGES[*]}"
  fi
  for tool in ip ethtool openssl ping jq nstat ss postfix swaks tshark dumpcap capinfos; do
    command -v "$tool" >/dev/null 2>&1 || skip "'$tool' is still missing after installing ${PACKAGES[*]}"
  done
}

# --- the binary ----------------------------------------------------------------
find_op25bd() {
  if [ -z "$OP25BD_BIN" ]; then
    # By hand: build it, so the lab never runs a stale binary (quick when up to date).
    command -v cargo >/dev/null 2>&1 || die "cargo not found: build op25bd and pass --op25bd PATH"
    log "cargo build --release -p op25bd"
    (cd "$REPO" && cargo build --release -p op25bd) >&2 || die "cargo build --release -p op25bd failed"
    OP25BD_BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/op25bd"
  fi
  [ -x "$OP25BD_BIN" ] || die "op25bd binary '$OP25BD_BIN' is not an executable"
  OP25BD_BIN="$(readlink -f "$OP25BD_BIN")"
}

# --- names, work directory, cleanup ----------------------------------------------
OP25BD_PID="" CAP_PIDS=() EAL_PREFIXES=() FAILED=0 PASSED=0 FAILURES=() CLEANED=0
SUB="" BOX="" SRV="" NSES=() MTA=""
prepare_run() {
  ID="$$"
  while ip netns list | grep -qE "^op25b-(sub|box|srv)-$ID( |$)"; do ID="$$-$RANDOM"; done
  SUB="op25b-sub-$ID" BOX="op25b-box-$ID" SRV="op25b-srv-$ID"
  NSES=("$SUB" "$BOX" "$SRV")
  if [ -n "$WORK" ]; then
    [ -e "$WORK" ] && die "--workdir $WORK already exists"
    mkdir -p "$WORK"
  else
    WORK="$(mktemp -d /tmp/op25b-e2e.XXXXXX)"
  fi
  WORK="$(readlink -f "$WORK")"
  # The Postfix daemons (user postfix) and the virtual delivery agent (user nobody)
  # must reach their directories below this one.
  chmod 755 "$WORK"
  MTA="$WORK/mta"
}

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
  local rc=$? pid ns
  [ "$CLEANED" = 1 ] && return
  CLEANED=1
  set +e
  [ -n "$OP25BD_PID" ] && kill -TERM "$OP25BD_PID" 2>/dev/null && wait "$OP25BD_PID" 2>/dev/null
  for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if ip netns list | grep -q "^$SRV\b" && [ -f "$MTA/etc/main.cf" ]; then
    ip netns exec "$SRV" postfix -c "$MTA/etc" stop >/dev/null 2>&1
  fi
  # Anything still running inside the lab's namespaces was started by this run.
  for ns in "${NSES[@]}"; do
    ip netns list | grep -q "^$ns\b" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
  done
  sleep 0.2
  for ns in "${NSES[@]}"; do
    ip netns list | grep -q "^$ns\b" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  for p in "${EAL_PREFIXES[@]}"; do rm -rf "/var/run/dpdk/$p"; done
  if [ "$rc" -eq 0 ] && [ "$KEEP" = 0 ]; then
    rm -rf "$WORK"
  elif [ -d "$WORK" ]; then
    echo "e2e: work directory kept: $WORK (captures, op25bd and MTA logs, Maildir)" >&2
  fi
  exit "$rc"
}

pass() { PASSED=$((PASSED + 1)); printf '  PASS  %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); FAILURES+=("$*"); printf '  FAIL  %s\n' "$*"; }

now_ms() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }

# --- topology ---------------------------------------------------------------------
setup_lab() {
  local ns
  for ns in "${NSES[@]}"; do
    ip netns add "$ns" || die "ip netns add $ns"
    ip -n "$ns" link set lo up
    # Before any interface exists, so every interface inherits them: no DAD delay,
    # no router solicitations, no reverse-path filter on the lab's one-link routes.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
      net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || die "sysctl in $ns"
  done
  # The box is a bump in the wire: its kernel gets no addresses and speaks no IPv6.
  ip netns exec "$BOX" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add s0 netns "$SUB" type veth peer name sa netns "$BOX" || die "veth $SUB/s0 -- $BOX/sa"
  ip link add v0 netns "$SRV" type veth peer name va netns "$BOX" || die "veth $SRV/v0 -- $BOX/va"
  local pair ns dev
  for pair in "$SUB s0" "$BOX sa" "$BOX va" "$SRV v0"; do
    read -r ns dev <<<"$pair"
    set -- "$ns" "$dev"
    # Checksums in software on both sides: op25bd forwards the bytes it reads, and
    # with rx offload off the receiving kernel verifies every checksum itself, so an
    # RST it accepts is an RST with correct checksums. No segmentation offloads:
    # af_packet must see wire-sized frames.
    ip netns exec "$1" ethtool -K "$2" rx off tx off >/dev/null 2>&1 || die "ethtool -K $2 rx off tx off in $1"
    ip netns exec "$1" ethtool -K "$2" sg off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$1" link set "$2" up
  done
  ip -n "$BOX" link set sa promisc on
  ip -n "$BOX" link set va promisc on
  local a
  for a in "$SUB_DYN4" "$SUB_FIX4"; do ip -n "$SUB" addr add "$a/32" dev s0; done
  for a in "$SUB_DYN6" "$SUB_FIX6"; do ip -n "$SUB" addr add "$a/128" dev s0 nodad; done
  for a in "$MX4" "$RELAY4"; do ip -n "$SRV" addr add "$a/32" dev v0; done
  for a in "$MX6" "$RELAY6"; do ip -n "$SRV" addr add "$a/128" dev v0 nodad; done
  # One flat link per family: every destination is on-link, ARP and ND go through op25bd.
  for pair in "$SUB s0" "$SRV v0"; do
    read -r ns dev <<<"$pair"
    set -- "$ns" "$dev"
    ip -n "$1" route add default dev "$2"
    ip -n "$1" -6 route add default dev "$2"
  done
}

# --- the MTA: a private Postfix instance in the server namespace ----------------------
start_mta() {
  local uid gid
  uid="$(id -u nobody)" gid="$(id -g nobody)"
  mkdir -p "$MTA/etc" "$MTA/spool" "$MTA/data" "$MTA/mail" "$MTA/tls"
  chown postfix "$MTA/data"
  chown "$uid:$gid" "$MTA/mail"
  sed -e "s|@DIR@|$MTA|g" -e "s|@UID@|$uid|g" -e "s|@GID@|$gid|g" \
    "$E2E_DIR/postfix/main.cf.in" >"$MTA/etc/main.cf"
  cp "$E2E_DIR/postfix/master.cf" "$MTA/etc/master.cf"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=mx.$MAIL_DOMAIN" -keyout "$MTA/tls/key.pem" -out "$MTA/tls/cert.pem" \
    >"$MTA/openssl.log" 2>&1 || die "openssl could not make the lab's certificate: $(cat "$MTA/openssl.log")"
  # postfix logs to stderr only on a terminal; its log file is $MTA/maillog.
  ip netns exec "$SRV" postfix -c "$MTA/etc" start >"$MTA/start.log" 2>&1 \
    || die "postfix did not start: $(cat "$MTA/start.log" "$MTA/maillog" 2>/dev/null)"
  local listening
  for _ in $(seq 100); do
    listening="$(ip netns exec "$SRV" ss -Hltn 2>/dev/null | awk '{print $4}' | grep -cE '^(0\.0\.0\.0|\[::\]):(25|465|587)$' || true)"
    [ "$listening" -eq 6 ] && return 0
    sleep 0.1
  done
  die "postfix is not listening on 25, 465 and 587 (IPv4 and IPv6): $(ip netns exec "$SRV" ss -ltn; cat "$MTA/maillog" 2>/dev/null)"
}

# --- captures ---------------------------------------------------------------------
start_capture() { # phase side ns iface
  local file="$WORK/$1-$2.pcapng" err="$WORK/$1-$2.dumpcap.log"
  ip netns exec "$3" dumpcap -q -i "$4" -w "$file" >"$err" 2>&1 &
  CAP_PIDS+=($!)
  for _ in $(seq 100); do
    grep -q "Capturing on" "$err" 2>/dev/null && [ -s "$file" ] && return 0
    kill -0 "${CAP_PIDS[-1]}" 2>/dev/null || die "dumpcap on $3/$4 exited: $(cat "$err")"
    sleep 0.1
  done
  die "dumpcap on $3/$4 did not start: $(cat "$err")"
}
stop_captures() {
  local pid
  sleep 0.3 # the last segments (FIN/ACK) reach the capture
  for pid in "${CAP_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  CAP_PIDS=()
}

# --- op25bd ---------------------------------------------------------------------------
start_op25bd() { # phase
  local prefix="op25b-e2e-$ID-$1"
  EAL_PREFIXES+=("$prefix")
  ip netns exec "$BOX" "$OP25BD_BIN" --no-huge --no-pci -l 0-1 -m 256 --file-prefix "$prefix" \
    --log-level='*:warning' --vdev=net_af_packet0,iface=sa --vdev=net_af_packet1,iface=va \
    -- --config "$E2E_DIR/configs/$1.yaml" --pair 0:1 --stats-json "$WORK/$1-stats.json" \
    >"$WORK/$1-op25bd.log" 2>&1 &
  OP25BD_PID=$!
  # Ready when a ping crosses it (the first ones may leave before its ports are up).
  for _ in $(seq 60); do
    kill -0 "$OP25BD_PID" 2>/dev/null || { wait "$OP25BD_PID" || true; OP25BD_PID=""; die "op25bd exited at start: $(cat "$WORK/$1-op25bd.log")"; }
    if ip netns exec "$SUB" ping -q -n -c1 -W1 -I "$SUB_DYN4" "$MX4" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "no ping crossed op25bd within 15 s: $(cat "$WORK/$1-op25bd.log")"
}
stop_op25bd() { # phase
  local rc=0
  kill -TERM "$OP25BD_PID"
  wait "$OP25BD_PID" || rc=$?
  OP25BD_PID=""
  if [ "$rc" -eq 0 ]; then pass "$1: op25bd stopped cleanly on SIGTERM"; else fail "$1: op25bd exited with $rc on SIGTERM: $(tail -5 "$WORK/$1-op25bd.log")"; fi
}

# A counter from --stats-json (op25bd writes it at exit).
stat() { # jq path into $STATS_FILE; empty when absent or not a number
  jq -r "($1) // empty | numbers" "$STATS_FILE" 2>/dev/null
}

# --- checks -------------------------------------------------------------------------
check_pings() { # phase: every subscriber address reaches every server address of its family
  local s d bad=()
  for s in "${SUB_ADDRS[@]}"; do
    for d in "${SRV_ADDRS[@]}"; do
      if { [[ "$s" == *:* ]] && [[ "$d" == *:* ]]; } || { [[ "$s" != *:* ]] && [[ "$d" != *:* ]]; }; then
        ip netns exec "$SUB" ping -q -n -c1 -W2 -I "$s" "$d" >/dev/null 2>&1 || bad+=("$s->$d")
      fi
    done
  done
  if [ ${#bad[@]} -eq 0 ]; then pass "$1: ping (ICMP, ARP, ND) crosses op25bd from every subscriber to every server address"
  else fail "$1: ping does not cross op25bd: ${bad[*]}"; fi
}

# The errors and the last server replies of a swaks transcript, on one line.
last_words() { grep -E '^(\*\*\*|<[-~] +[0-9]{3} )' "$1" | tail -3 | tr -s '\n\t' '  '; }

# One SMTP conversation with swaks from SRC to DST:PORT. expect: accept | refuse.
SEQ=0
smtp_case() { # phase name src dst port expect
  local phase="$1" name="$2" src="$3" dst="$4" port="$5" expect="$6"
  SEQ=$((SEQ + 1))
  local tag="op25b-e2e-$ID-$phase-$SEQ" out="$WORK/$phase-swaks-$SEQ.log" tls=() t0 t1 ms rc=0
  case "$port" in 587) tls=(--tls) ;; 465) tls=(--tls-on-connect) ;; esac
  local timeout=15
  [ "$expect" = refuse ] && timeout=5
  t0=$(now_ms)
  ip netns exec "$SUB" swaks --server "$dst" --port "$port" --local-interface "$src" "${tls[@]}" \
    --timeout "$timeout" --helo "client.isp.example" --from "subscriber@isp.example" \
    --to "postmaster@$MAIL_DOMAIN" --header "Subject: op25b e2e $name" \
    --header "X-Op25b-E2E: $tag" >"$out" 2>&1 || rc=$?
  t1=$(now_ms)
  ms=$((t1 - t0))
  local what="$phase: $name ($src -> [$dst]:$port)"
  if [ "$expect" = refuse ]; then
    if [ "$rc" -ne 0 ] && grep -q "Connection refused" "$out"; then
      # A SYN that got no answer is retransmitted after 1 s: under a second means
      # the RST was accepted at once.
      if [ "$ms" -lt 1000 ]; then pass "$what: connection refused in $ms ms"
      else fail "$what: refused, but only after $ms ms (a SYN was retransmitted?)"; fi
    else
      fail "$what: expected 'connection refused', swaks exit $rc after $ms ms, last words: $(last_words "$out")"
    fi
    REFUSED_TAGS+=("$tag")
    return 0
  fi
  if [ "$rc" -ne 0 ] || ! grep -qE '^<[-~] +250 .*queued' "$out"; then
    fail "$what: expected 250 (queued), swaks exit $rc after $ms ms, last words: $(last_words "$out")"
    return 0
  fi
  # The message must land in the Maildir, received from the subscriber address.
  local f="" peer="[$src]"
  [[ "$src" == *:* ]] && peer="[IPv6:$src]"
  for _ in $(seq 100); do
    f="$(grep -rlxF "X-Op25b-E2E: $tag" "$MTA/mail/inbox/new" 2>/dev/null | head -1 || true)"
    [ -n "$f" ] && break
    sleep 0.1
  done
  if [ -z "$f" ]; then
    fail "$what: 250 after $ms ms, but the message never reached the Maildir"
  elif ! grep -qF "$peer" "$f"; then
    fail "$what: delivered, but its Received header does not name $peer: $(grep -m1 '^Received:' -A1 "$f" | tr '\n' ' ')"
  else
    pass "$what: 250 in $ms ms, delivered to the Maildir from $peer"
  fi
}

# Every SMTP case of the lab; $1 is the phase, $2 what the dynamic pool gets on 25
# toward the outside MX (refuse when enforced, accept when monitored).
run_cases() {
  local ph="$1" dyn25="$2"
  smtp_case "$ph" "IPv4 dynamic to outside MX on 25" "$SUB_DYN4" "$MX4" 25 "$dyn25"
  smtp_case "$ph" "IPv4 dynamic to outside MX on 587 (STARTTLS)" "$SUB_DYN4" "$MX4" 587 accept
  smtp_case "$ph" "IPv4 dynamic to outside MX on 465 (implicit TLS)" "$SUB_DYN4" "$MX4" 465 accept
  smtp_case "$ph" "IPv4 dynamic to the ISP relay on 25" "$SUB_DYN4" "$RELAY4" 25 accept
  smtp_case "$ph" "IPv4 fixed-IP to outside MX on 25" "$SUB_FIX4" "$MX4" 25 accept
  smtp_case "$ph" "IPv6 dynamic to outside MX on 25" "$SUB_DYN6" "$MX6" 25 "$dyn25"
  smtp_case "$ph" "IPv6 dynamic to outside MX on 587 (STARTTLS)" "$SUB_DYN6" "$MX6" 587 accept
  smtp_case "$ph" "IPv6 dynamic to outside MX on 465 (implicit TLS)" "$SUB_DYN6" "$MX6" 465 accept
  smtp_case "$ph" "IPv6 dynamic to the ISP relay on 25" "$SUB_DYN6" "$RELAY6" 25 accept
  smtp_case "$ph" "IPv6 fixed-IP to outside MX on 25" "$SUB_FIX6" "$MX6" 25 accept
}

syn_retrans() { ip netns exec "$SUB" nstat -asz TcpExtTCPSynRetrans 2>/dev/null | awk '$1 == "TcpExtTCPSynRetrans" {print $2; f=1} END {if (!f) print 0}'; }

readonly TSHARK_OPTS=(-n -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE
  -o udp.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE)

# tshark's verdict on a capture: no malformed packet, no bad checksum anywhere.
check_wellformed() { # phase side
  local file="$WORK/$1-$2.pcapng" err="$WORK/$1-$2.tshark.log" bad n
  n="$(capinfos -T -r -c -M "$file" 2>"$err" | cut -f2)"
  # Expert infos of the Checksum group are tshark's "bad checksum" verdicts.
  bad="$(tshark -r "$file" "${TSHARK_OPTS[@]}" -Y '_ws.malformed || _ws.expert.group == 0x01000000
      || ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0
      || icmp.checksum.status == 0 || icmpv6.checksum.status == 0' 2>"$err")" \
    || { fail "$1: tshark cannot read the $2-side capture: $(grep -v 'Running as user' "$err")"; return 0; }
  if ! [ "${n:-0}" -gt 0 ] 2>/dev/null; then fail "$1: the $2-side capture is empty or unreadable: $(cat "$err")"
  elif [ -z "$bad" ]; then pass "$1: $2 side: $n frames, none malformed, no bad checksum (tshark)"
  else fail "$1: $2 side: malformed frames or bad checksums (tshark): $(head -5 <<<"$bad")"; fi
}

# Every TCP segment of a capture as one tab-separated line for captures.awk.
tcp_table() { # file
  tshark -r "$1" "${TSHARK_OPTS[@]}" -Y tcp -T fields -E separator=/t -E occurrence=f \
    -e frame.number -e frame.time_epoch -e eth.src -e eth.dst -e ip.src -e ipv6.src \
    -e ip.dst -e ipv6.dst -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack \
    -e tcp.flags.reset -e tcp.flags.fin -e tcp.seq_raw -e tcp.ack_raw -e tcp.window_size_value \
    -e tcp.hdr_len -e tcp.len -e ip.ttl -e ipv6.hlim -e ip.flags.df -e ip.id \
    -e tcp.flags.push -e tcp.flags.urg
}

# RSTs, SYNs and the blocked 4-tuples, from both captures (see captures.awk).
check_tcp() { # phase
  local ph="$1" out rc=0
  tcp_table "$WORK/$ph-srv.pcapng" >"$WORK/$ph-srv.tcp.tsv" 2>>"$WORK/$ph-tshark.log"
  tcp_table "$WORK/$ph-sub.pcapng" >"$WORK/$ph-sub.tcp.tsv" 2>>"$WORK/$ph-tshark.log"
  out="$(awk -F'\t' -v phase="$ph" -v subs="${SUB_ADDRS[*]}" -v dynamic="$SUB_DYN4 $SUB_DYN6" -v mx="$MX4 $MX6" \
    -f "$E2E_DIR/lib/captures.awk" "$WORK/$ph-srv.tcp.tsv" "$WORK/$ph-sub.tcp.tsv")" || rc=$?
  printf '%s\n' "$out" >"$WORK/$ph-captures.txt"
  local line
  while IFS= read -r line; do
    case "$line" in
      PASS\ *) pass "$ph: ${line#PASS }" ;;
      FAIL\ *) fail "$ph: ${line#FAIL }" ;;
      COUNT\ *) eval "CAP_${line#COUNT }" ;;
    esac
  done <<<"$out"
  [ "$rc" -eq 0 ] || fail "$ph: capture analysis failed (awk exit $rc)"
}

check_stats() { # phase
  local ph="$1" k v
  STATS_FILE="$WORK/$1-stats.json"
  [ -s "$STATS_FILE" ] || { fail "$ph: op25bd wrote no --stats-json"; return 0; }
  jq -e . "$STATS_FILE" >/dev/null 2>&1 || { fail "$ph: --stats-json is not JSON: $(head -c 300 "$STATS_FILE")"; return 0; }
  local keys=(.rx .forwarded .replied .dropped .monitored .mempool_in_use
    '.pools["lab-dynamic"].blocked' '.pools["lab-dynamic"].monitored'
    '.pools["lab-fixed-ip"].blocked' '.pools["lab-fixed-ip"].monitored')
  for k in "${keys[@]}"; do
    [ -n "$(stat "$k")" ] || { fail "$ph: --stats-json has no counter $k: $(jq -c . "$STATS_FILE")"; return 0; }
  done
  v="$(stat .mempool_in_use)"
  if [ "$v" -eq 0 ]; then pass "$ph: no mbuf left in use at exit"; else fail "$ph: $v mbufs still in use at exit"; fi
  local replied dropped monitored rx dyn_blocked dyn_mon fix_blocked fix_mon
  replied="$(stat .replied)" dropped="$(stat .dropped)" monitored="$(stat .monitored)" rx="$(stat .rx)"
  dyn_blocked="$(stat '.pools["lab-dynamic"].blocked')" dyn_mon="$(stat '.pools["lab-dynamic"].monitored')"
  fix_blocked="$(stat '.pools["lab-fixed-ip"].blocked')" fix_mon="$(stat '.pools["lab-fixed-ip"].monitored')"
  if [ "$fix_blocked" -eq 0 ] && [ "$fix_mon" -eq 0 ]; then pass "$ph: pool lab-fixed-ip (exempt): nothing blocked or monitored"
  else fail "$ph: pool lab-fixed-ip (exempt) counted $fix_blocked blocked and $fix_mon monitored (expected 0 and 0)"; fi
  if [ "$ph" = enforce ]; then
    if [ "$replied" -eq "${CAP_op25bd_rsts:-0}" ] && [ "$replied" -eq 2 ] && [ "$dropped" -eq 0 ]; then
      pass "$ph: op25bd counted $replied replies (and no drop): the 2 RSTs the subscriber saw"
    else
      fail "$ph: op25bd counted $replied replies and $dropped drops; the subscriber saw ${CAP_op25bd_rsts:-0} RSTs from it; 2 replies and no drop expected"
    fi
    if [ "$dyn_blocked" -eq 2 ] && [ "$dyn_mon" -eq 0 ]; then pass "$ph: pool lab-dynamic counted the 2 blocked connections"
    else fail "$ph: pool lab-dynamic counted $dyn_blocked blocked and $dyn_mon monitored (expected 2 and 0)"; fi
  else
    if [ "$replied" -eq 0 ] && [ "$dropped" -eq 0 ] && [ "$dyn_blocked" -eq 0 ]; then pass "$ph: nothing blocked, replied to or dropped in monitor mode"
    else fail "$ph: monitor mode replied $replied, dropped $dropped, pool lab-dynamic blocked $dyn_blocked (expected 0, 0, 0)"; fi
    # At least the two SYNs toward the outside MX; at most every segment of those
    # two connections (both directions: the inbound rule is on).
    if [ "$monitored" -ge 2 ] && [ "$monitored" -le "${CAP_blocked_segments:-0}" ] && [ "$dyn_mon" -eq "$monitored" ]; then
      pass "$ph: $monitored segments counted as monitored, all in pool lab-dynamic (2..${CAP_blocked_segments:-0} possible)"
    else
      fail "$ph: monitored = $monitored (pool lab-dynamic: $dyn_mon), expected between 2 (the SYNs) and ${CAP_blocked_segments:-0} (every segment of the port-25 connections to the outside MX), all in lab-dynamic"
    fi
  fi
  log "$ph: op25bd counters: rx $rx, replied $replied, dropped $dropped, monitored $monitored"
}

run_phase() { # phase
  local ph="$1" dyn25 r0 r1
  [ "$ph" = enforce ] && dyn25=refuse || dyn25=accept
  log "== phase $ph: configs/$ph.yaml"
  REFUSED_TAGS=()
  start_capture "$ph" sub "$SUB" s0
  start_capture "$ph" srv "$SRV" v0
  start_op25bd "$ph"
  check_pings "$ph"
  r0="$(syn_retrans)"
  run_cases "$ph" "$dyn25"
  r1="$(syn_retrans)"
  if [ "$r1" -eq "$r0" ]; then pass "$ph: the subscriber kernel retransmitted no SYN (TcpExtTCPSynRetrans)"
  else fail "$ph: the subscriber kernel retransmitted $((r1 - r0)) SYN(s) (TcpExtTCPSynRetrans)"; fi
  local tag
  for tag in "${REFUSED_TAGS[@]}"; do
    if grep -rqxF "X-Op25b-E2E: $tag" "$MTA/mail/inbox/new" 2>/dev/null; then fail "$ph: a refused message ($tag) reached the Maildir"; fi
  done
  stop_captures
  stop_op25bd "$ph"
  check_wellformed "$ph" sub
  check_wellformed "$ph" srv
  check_tcp "$ph"
  check_stats "$ph"
}

summary() { # elapsed_ms
  echo
  echo "op25b e2e lab: $PASSED passed, $FAILED failed, $(($1 / 1000)).$(($1 % 1000 / 100)) s"
  [ "$FAILED" -eq 0 ] && return 0
  printf '  failed: %s\n' "${FAILURES[@]}"
  return 1
}

# --analyze DIR: only the capture checks, on PHASE-sub.pcapng and PHASE-srv.pcapng in
# DIR (any pcap or pcapng). No root, no namespaces; the cargo test feeds it
# hand-made captures to show that every check can fail.
analyze() {
  local ph t0
  t0=$(now_ms)
  if ! command -v tshark >/dev/null 2>&1 || ! command -v capinfos >/dev/null 2>&1; then
    skip "tshark is not installed (--analyze installs nothing)"
  fi
  [ -d "$ANALYZE" ] || die "--analyze $ANALYZE: not a directory"
  WORK="$(readlink -f "$ANALYZE")"
  for ph in "${PHASE_LIST[@]}"; do
    if [ ! -f "$WORK/$ph-sub.pcapng" ] || [ ! -f "$WORK/$ph-srv.pcapng" ]; then
      die "--analyze: $WORK/$ph-sub.pcapng or $WORK/$ph-srv.pcapng is missing"
    fi
    check_wellformed "$ph" sub
    check_wellformed "$ph" srv
    check_tcp "$ph"
  done
  summary $(($(now_ms) - t0)) || exit $EXIT_FAIL
  exit 0
}

# --- main ---------------------------------------------------------------------------
[ -n "$ANALYZE" ] && analyze
preflight
find_op25bd
prepare_run
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
T_START=$(now_ms)
log "op25bd: $OP25BD_BIN"
log "lab: $SUB -- $BOX (op25bd) -- $SRV, work directory $WORK"
setup_lab
start_mta
log "postfix $(postconf -d mail_version 2>/dev/null | sed 's/.*= //') listening on 25, 465, 587 in $SRV"
for ph in "${PHASE_LIST[@]}"; do run_phase "$ph"; done

if ! summary $(($(now_ms) - T_START)); then
  for ph in "${PHASE_LIST[@]}"; do
    [ -f "$WORK/$ph-op25bd.log" ] && { echo "--- $ph: op25bd output"; cat "$WORK/$ph-op25bd.log"; }
  done
  echo "--- MTA log (last 20 lines)"; tail -20 "$MTA/maillog" 2>/dev/null || true
  exit $EXIT_FAIL
fi
exit 0
