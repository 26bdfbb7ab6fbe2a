#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": runs inside the guest. The same blocks served by cachepeer,
# by nginx with sendfile (HTTP/1.1 keep-alive Range GETs, pipelined to the
# same depth), and a raw TCP stream (the ceiling), all read by the same
# client receive path (ctl/cachepeer-bench). Guest speed is emulated: only
# the ratios printed at the end mean anything.
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
modprobe libcrc32c
insmod "$top/kmod/cachepeer.ko"
"$ctl" start --listen 127.0.0.1:7000 --dir "$work/cache"

# put_blocks PREFIX COUNT SIZE: store blocks and give nginx the very same files.
put_blocks() {
	local i key name

	head -c "$3" /dev/urandom >"$work/src"
	for ((i = 0; i < $2; i++)); do
		key=$1$i
		"$ctl" put "$key" "$work/src"
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

# run NAME PROTO PORT ARGS...: one measurement line, tagged.
run() {
	local name=$1 proto=$2 port=$3

	shift 3
	printf '%-10s ' "$name"
	"${client[@]}" "$bench" --proto "$proto" --peer "127.0.0.1:$port" --secs "$secs" "$@"
}

{
	run big cachepeer 7000 --conns 4 --depth 2 --size $((4 << 20)) --prefix big- --keys 16
	run big http 8080 --conns 4 --depth 2 --size $((4 << 20)) --prefix big- --keys 16
	run big raw 9000 --conns 4 --depth 2 --size $((4 << 20))
	run pipe64 cachepeer 7000 --conns 1 --depth 64 --size 4096 --prefix small- --keys 256
	run pipe64 http 8080 --conns 1 --depth 64 --size 4096 --prefix small- --keys 256
	run conns16 cachepeer 7000 --conns 16 --depth 1 --size 4096 --prefix small- --keys 256
	run conns16 http 8080 --conns 16 --depth 1 --size 4096 --prefix small- --keys 256
} | tee "$work/results"

echo
echo "ratios (cachepeer / nginx, cachepeer / raw ceiling):"
awk '
{ p = $2; sub("proto=", "", p)
  for (i = 3; i <= NF; i++) { split($i, kv, "="); r[$1 "," p "," kv[1]] = kv[2] } }
END {
	printf "big (4 MiB, 4 conns x 2): GiB/s %.2fx nginx, %.2fx raw; CPU/GiB %.2fx nginx",
		r["big,cachepeer,gib_s"] / r["big,http,gib_s"], r["big,cachepeer,gib_s"] / r["big,raw,gib_s"],
		r["big,cachepeer,cpu_s_per_gib"] / r["big,http,cpu_s_per_gib"]
	printf " (server side, client CPU left out: %.2fx nginx, %.2fx raw)\n",
		r["big,cachepeer,server_cpu_s_per_gib"] / r["big,http,server_cpu_s_per_gib"],
		r["big,cachepeer,server_cpu_s_per_gib"] / r["big,raw,server_cpu_s_per_gib"]
	printf "pipe64 (4 KiB, 1 conn x 64): ops/s %.2fx nginx; p99 %.2fx nginx\n",
		r["pipe64,cachepeer,ops_s"] / r["pipe64,http,ops_s"], r["pipe64,cachepeer,p99_us"] / r["pipe64,http,p99_us"]
	printf "conns16 (4 KiB, 16 conns x 1): ops/s %.2fx nginx; p99 %.2fx nginx\n",
		r["conns16,cachepeer,ops_s"] / r["conns16,http,ops_s"], r["conns16,cachepeer,p99_us"] / r["conns16,http,p99_us"]
}' "$work/results"
