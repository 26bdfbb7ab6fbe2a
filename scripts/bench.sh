#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": runs inside the guest. The same blocks served by cachepeer,
# by nginx with sendfile (HTTP/1.1 keep-alive Range GETs, pipelined to the
# same depth), and a raw TCP stream (the ceiling), all read by the same
# client receive path (ctl/cachepeer-bench). Guest speed is emulated: only
# the ratios printed at the end mean anything.
#
# BENCH_ROUNDS (3) rounds run every measurement once each, in turn, and the
# ratios printed are medians over the rounds: a TCG guest's speed drifts by
# 10-20 % while it runs, more than some of the differences measured.
#
# BENCH_SPLIT=1 keeps the client off the CPU that does the network's receive
# work: the client runs on CPU 0, and RPS moves lo's receive processing
# (every server's request parsing, cachepeer's answers from softirq, the
# client's own TCP receive) to CPU 1. On loopback the answer is otherwise
# often on the client's socket before its send() returns, and its threads
# never sleep; split, they wait for answers as over a network. The servers'
# tasks may still run on either CPU.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/ctl/cachepeerctl
bench=$top/ctl/cachepeer-bench
secs=${BENCH_SECS:-10}
rounds=${BENCH_ROUNDS:-3}
split=${BENCH_SPLIT:-0}
rps=/sys/class/net/lo/queues/rx-0/rps_cpus
work=$(mktemp -d /tmp/cachepeer-bench.XXXXXX)

cleanup() {
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	[ -n "${raw_pid:-}" ] && kill "$raw_pid" 2>/dev/null
	"$ctl" stop 2>/dev/null
	rmmod cachepeer 2>/dev/null
	umount -l "$work" 2>/dev/null
	if [ "$split" = 1 ]; then echo 0 >"$rps"; fi
}
trap cleanup EXIT

mount -t tmpfs -o size=512m cachepeer-bench "$work"
mkdir -p "$work/cache" "$work/www" "$work/nginx"
insmod "$top/kmod/cachepeer.ko"
"$ctl" start --listen 127.0.0.1:7000 --dir "$work/cache"
# A write key: the PUTs below use it, and the "auth" runs HELLO with it
# before their requests. Holding a key makes the policy "writes", so the
# other cachepeer runs read unauthenticated.
"$ctl" genkey >"$work/bench.key"
"$ctl" key add bench --role write "$work/bench.key"
unset CACHEPEER_KEY
bkey=bench:$work/bench.key

# put_blocks PREFIX COUNT SIZE: store blocks and give nginx the very same files.
put_blocks() {
	local i key name

	head -c "$3" /dev/urandom >"$work/src"
	for ((i = 0; i < $2; i++)); do
		key=$1$i
		"$ctl" put --key "$bkey" "$key" "$work/src"
		# A block's file is named by SHA-256 of its key and its size.
		name=$(printf '%s' "$key" | sha256sum | cut -c1-32).$(printf '%x' "$3")
		ln -s "$work/cache/$name" "$work/www/$key"
	done
}
put_blocks big- 16 $((4 << 20))
put_blocks small- 256 4096

# Block files are 0600 and owned by whoever started the node: here, root.
cat >"$work/nginx/nginx.conf" <<CONF
user root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 100000000;
	keepalive_timeout 600;
	client_body_temp_path $work/nginx;
	proxy_temp_path $work/nginx;
	fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx;
	scgi_temp_path $work/nginx;
	server {
		listen 127.0.0.1:8080;
		root $work/www;
	}
}
CONF
nginx -c "$work/nginx/nginx.conf"
"$bench" --serve-raw 9000 --prefix "$work/www/big-" --keys 16 &
raw_pid=$!
sleep 1

client=()
if [ "$split" = 1 ]; then
	[ "$(nproc)" -ge 2 ] || { echo "bench: BENCH_SPLIT=1 needs 2 CPUs" >&2; exit 1; }
	echo 2 >"$rps"
	client=(taskset -c 0)
	echo "split: client on CPU 0, lo's receive processing on CPU 1 (RPS)"
fi

# run NAME PROTO PORT ARGS...: one measurement line, tagged with its round.
run() {
	local name=$1 proto=$2 port=$3

	shift 3
	printf '%-10s round=%d ' "$name" "$round"
	"${client[@]}" "$bench" --proto "$proto" --peer "127.0.0.1:$port" --secs "$secs" "$@"
}

# run_auth NAME ARGS...: a cachepeer run whose connections HELLO first.
run_auth() {
	run "$@" --key "$bkey" | sed 's/proto=cachepeer/proto=auth/'
}

# in_turn CMD...: run each command, in reverse order every second round, so
# that neither server always goes first (a TCG guest drifts as it runs).
in_turn() {
	local i

	if ((round % 2)); then
		for ((i = 1; i <= $#; i++)); do eval "${!i}"; done
	else
		for ((i = $#; i >= 1; i--)); do eval "${!i}"; done
	fi
}

big=(--conns 4 --depth 2 --size $((4 << 20)) --prefix big- --keys 16)
small=(--size 4096 --prefix small- --keys 256)
for ((round = 1; round <= rounds; round++)); do
	in_turn 'run big cachepeer 7000 "${big[@]}"' \
		'run big http 8080 "${big[@]}"' \
		'run big raw 9000 --conns 4 --depth 2 --size $((4 << 20))' \
		'run_auth big cachepeer 7000 "${big[@]}"'
	in_turn 'run pipe64 cachepeer 7000 --conns 1 --depth 64 "${small[@]}"' \
		'run pipe64 http 8080 --conns 1 --depth 64 "${small[@]}"' \
		'run_auth pipe64 cachepeer 7000 --conns 1 --depth 64 "${small[@]}"'
	in_turn 'run conns16 cachepeer 7000 --conns 16 --depth 1 "${small[@]}"' \
		'run conns16 http 8080 --conns 16 --depth 1 "${small[@]}"'
done | tee "$work/results"

# Each ratio is taken within a round, from runs next to each other in time,
# and the median over the rounds is printed, the rounds' own in brackets.
echo
echo "medians over $rounds round(s):"
awk -v rounds="$rounds" '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# stat(NAME, PROTO, KEY): median of KEY over the rounds
function stat(name, proto, key,    k, v) {
	for (k = 1; k <= rounds; k++) v[k] = r[name, proto, k, key]
	return median(v, rounds)
}
# ratio(NAME, KEY, P1, P2): "M [r1 r2 ...]", the per-round KEY of P1 over P2
function ratio(name, key, p1, p2,    k, v, s) {
	s = ""
	for (k = 1; k <= rounds; k++) {
		v[k] = r[name, p1, k, key] / r[name, p2, k, key]
		s = s sprintf(" %.2f", v[k])
	}
	return rounds > 1 ? sprintf("%.2fx [%s]", median(v, rounds), substr(s, 2)) : sprintf("%.2fx", v[1])
}
{ p = $3; sub("proto=", "", p); k = $2; sub("round=", "", k)
  for (i = 3; i <= NF; i++) { split($i, kv, "="); r[$1, p, k, kv[1]] = kv[2] } }
END {
	n = split("big,cachepeer big,auth big,http big,raw pipe64,cachepeer pipe64,auth pipe64,http " \
		  "conns16,cachepeer conns16,http", rows, " ")
	for (i = 1; i <= n; i++) {
		split(rows[i], np, ",")
		printf "%-10s %-9s gib_s=%.3f ops_s=%.0f p50_us=%.0f p99_us=%.0f cpu_s_per_gib=%.3f server_cpu_s_per_gib=%.3f\n",
			np[1], np[2], stat(np[1], np[2], "gib_s"), stat(np[1], np[2], "ops_s"),
			stat(np[1], np[2], "p50_us"), stat(np[1], np[2], "p99_us"),
			stat(np[1], np[2], "cpu_s_per_gib"), stat(np[1], np[2], "server_cpu_s_per_gib")
	}
	print ""
	print "ratios (cachepeer / nginx, cachepeer / raw ceiling):"
	printf "big (4 MiB, 4 conns x 2): GiB/s %s nginx, %s raw; CPU/GiB %s nginx",
		ratio("big", "gib_s", "cachepeer", "http"), ratio("big", "gib_s", "cachepeer", "raw"),
		ratio("big", "cpu_s_per_gib", "cachepeer", "http")
	printf " (server side, client CPU left out: %s nginx, %s raw)\n",
		ratio("big", "server_cpu_s_per_gib", "cachepeer", "http"),
		ratio("big", "server_cpu_s_per_gib", "cachepeer", "raw")
	printf "pipe64 (4 KiB, 1 conn x 64): ops/s %s nginx; p99 %s nginx\n",
		ratio("pipe64", "ops_s", "cachepeer", "http"), ratio("pipe64", "p99_us", "cachepeer", "http")
	printf "conns16 (4 KiB, 16 conns x 1): ops/s %s nginx; p99 %s nginx\n",
		ratio("conns16", "ops_s", "cachepeer", "http"), ratio("conns16", "p99_us", "cachepeer", "http")
	print ""
	print "authenticated / unauthenticated cachepeer (HELLO once per connection):"
	printf "big (4 MiB, 4 conns x 2): GiB/s %s; CPU/GiB %s\n",
		ratio("big", "gib_s", "auth", "cachepeer"), ratio("big", "cpu_s_per_gib", "auth", "cachepeer")
	printf "pipe64 (4 KiB, 1 conn x 64): ops/s %s; p99 %s\n",
		ratio("pipe64", "ops_s", "auth", "cachepeer"), ratio("pipe64", "p99_us", "auth", "cachepeer")
}' "$work/results"
