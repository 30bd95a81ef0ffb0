# op25b e2e lab: what the two captures of one phase say about op25bd's RSTs.
# Plain POSIX awk (Debian's default mawk is enough).
#
#   awk -F'\t' -v phase=enforce|monitor -v subs="A B .." -v dynamic="A B .." -v mx="A B .." \
#       -f captures.awk SRV.tsv SUB.tsv
#
# Input: one line per TCP segment, as run.sh's tcp_table writes them (tshark -T fields):
#   1 frame  2 time  3 eth.src  4 eth.dst  5 ip.src  6 ipv6.src  7 ip.dst  8 ipv6.dst
#   9 sport 10 dport 11 SYN 12 ACK 13 RST 14 FIN 15 seq_raw 16 ack_raw 17 window
#  18 hdr_len 19 payload len 20 ip.ttl 21 ipv6.hlim 22 ip.flags.df 23 ip.id
#  24 PSH 25 URG
# The first file is the server side (v0), the second the subscriber side (s0).
#
# Output: "PASS text", "FAIL text" and "COUNT name=value" lines, read by run.sh.
# The RST rules checked are the design's reply contract (DESIGN.md, "Replies").

function flag(x) { return x == "1" || x == "True" || x == "true" }
function zero(x) { return x ~ /^(0|0x0+)$/ }
function conn(s, sp, d, dp) { return s " port " sp " -> " d " port " dp }
function bad(msg) { fails++; print "FAIL " msg }
function words(list, set,    n, i, a) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) set[a[i]] = 1
}

BEGIN {
  words(subs, SUBS); words(dynamic, DYN); words(mx, MX)
  fails = 0; op25bd_rsts = 0; blocked_segments = 0; sub_frames = 0; srv_frames = 0
}

{
  src = ($5 != "") ? $5 : $6
  dst = ($7 != "") ? $7 : $8
  k = conn(src, $9, dst, $10)
}

# Server side: remember every connection (both directions) that reached the server link.
FILENAME == ARGV[1] { srv[k] = 1; srv_frames++; next }

# Subscriber side.
{
  sub_frames++
  # Port-25 connections from a dynamic address to the outside MX: what the policy
  # blocks (enforce) or watches (monitor); k_out is such a connection as opened.
  k_out = ""
  if ((src in DYN) && (dst in MX) && $10 == 25) k_out = k
  if ((dst in DYN) && (src in MX) && $9 == 25) k_out = conn(dst, $10, src, $9)
  if (k_out != "") { blocked[k_out] = 1; blocked_segments++ }

  if (flag($11) && !flag($12)) {                      # a SYN from the subscriber
    if (k in rst_frame)
      bad("SYN retransmitted in frame " $1 " after op25bd's RST (frame " rst_frame[k] ") for " k)
    else if (k in syn_seq)
      bad("SYN retransmitted in frame " $1 " (first sent in frame " syn_frame[k] ") for " k)
    syn_seq[k] = $15; syn_len[k] = $19 + 0; syn_fin[k] = flag($14)
    syn_esrc[k] = $3; syn_edst[k] = $4; syn_time[k] = $2; syn_frame[k] = $1
    next
  }
  if (!flag($13) || !(dst in SUBS)) next              # only RSTs toward a subscriber

  # A RST toward a subscriber. The connection as the subscriber opened it:
  o = conn(dst, $10, src, $9)
  if (k in srv) {
    bad("frame " $1 ": RST from the server itself (it crossed the server link) on " o "; every SMTP conversation here should end cleanly")
    next
  }
  if (phase == "monitor") { bad("frame " $1 ": op25bd sent a RST in monitor mode on " o); next }
  if (!(o in blocked)) { bad("frame " $1 ": op25bd sent a RST on " o ", a connection the policy allows"); next }
  if (!(o in syn_seq)) { bad("frame " $1 ": RST on " o " without a SYN before it"); next }
  op25bd_rsts++
  rst_frame[o] = $1
  problems = ""
  # To a segment without ACK: RST+ACK, SEQ 0, ACK = SEG.SEQ + len + SYN (+ FIN), window 0, no options.
  if (!flag($13) || !flag($12) || flag($11) || flag($14) || flag($24) || flag($25)) problems = problems " flags not exactly RST+ACK;"
  if (!zero($15)) problems = problems " seq " $15 " (want 0);"
  want_ack = sprintf("%.0f", (syn_seq[o] + syn_len[o] + 1 + syn_fin[o]) % 4294967296)
  if ($16 + 0 != want_ack + 0) problems = problems " ack " $16 " (want " want_ack ");"
  if (!zero($17)) problems = problems " window " $17 " (want 0);"
  if ($18 + 0 != 20) problems = problems " header " $18 " bytes (want 20, no options);"
  if ($19 + 0 != 0) problems = problems " " $19 " payload bytes;"
  if ($5 != "") {
    if ($20 + 0 != 64) problems = problems " TTL " $20 " (want 64);"
    if (!flag($22)) problems = problems " DF not set;"
    if (!zero($23)) problems = problems " IP ID " $23 " (want 0);"
  } else if ($21 + 0 != 64) problems = problems " hop limit " $21 " (want 64);"
  if ($3 != syn_edst[o] || $4 != syn_esrc[o]) problems = problems " MACs " $3 " > " $4 " are not the SYN's swapped;"
  if (problems != "") bad("frame " $1 ": op25bd's RST on " o ":" problems)
  else {
    us = int(($2 - syn_time[o]) * 1000000 + 0.5)
    print "PASS RST in frame " $1 " answers the SYN in frame " syn_frame[o] " (" o ") per the contract, " us " us later"
  }
}

END {
  if (srv_frames == 0) bad("no TCP segment on the server side at all")
  if (sub_frames == 0) bad("no TCP segment on the subscriber side at all")
  n_blocked = 0
  for (c in blocked) {
    n_blocked++
    if (phase == "enforce") {
      if (c in srv) bad("the blocked connection " c " reached the server link")
      else print "PASS the blocked connection " c " never reached the server link"
      if (!(c in rst_frame)) bad("no RST from op25bd for the blocked connection " c)
    } else if (!(c in srv)) bad("the monitored connection " c " did not reach the server")
    else print "PASS the monitored connection " c " reached the server"
  }
  if (n_blocked != 2) bad(n_blocked " port-25 connections from dynamic addresses to the outside MX seen; 2 expected (IPv4, IPv6)")
  print "COUNT op25bd_rsts=" op25bd_rsts
  print "COUNT blocked_segments=" blocked_segments
  print "COUNT blocked_connections=" n_blocked
  exit 0
}
