#!/usr/bin/env bash
# compare.sh: benchmark cached against redis-server side by side and print
# the results as markdown on stdout (progress goes to stderr).
#
#   1. throughput: redis-benchmark, servers alternated for ROUNDS rounds
#   2. bytes per key: RSS and INFO used_memory before/after loading KEYS keys,
#      and per element for KEYS elements in lists, hashes, sets, sorted sets
#   3. cache effectiveness: Zipf cache-aside hit ratio under MAXMEMORY
#
# Knobs (environment): ROUNDS, REQUESTS, PIPELINE_REQUESTS, KEYS, PER_KEY, MAXMEMORY, ZIPF_REQUESTS,
# CACHED_BIN, REDIS_PORT, CACHED_PORT, RUN_TIMEOUT. See bench/README.md.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
REQUESTS=${REQUESTS:-200000}
# At -P 16 the fast tests pass a million requests a second: 200000 would
# last a fifth of a second, mostly connection set-up and warm-up.
PIPELINE_REQUESTS=${PIPELINE_REQUESTS:-$((REQUESTS * 10))}
TESTS=${TESTS:-set,get,incr,mset,lpush,lpop,sadd,hset,zadd,spop,lrange_100}
KEYS=${KEYS:-1000000}
PER_KEY=${PER_KEY:-100}
MAXMEMORY=${MAXMEMORY:-64mb}
ZIPF_REQUESTS=${ZIPF_REQUESTS:-$((REQUESTS * 10))}
REDIS_PORT=${REDIS_PORT:-16379}
CACHED_PORT=${CACHED_PORT:-16380}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for knob in ROUNDS REQUESTS PIPELINE_REQUESTS KEYS PER_KEY ZIPF_REQUESTS REDIS_PORT CACHED_PORT RUN_TIMEOUT; do
	[[ ${!knob} =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive integer, got '${!knob}'"
done
[[ $MAXMEMORY =~ ^[1-9][0-9]*(b|kb|mb|gb)?$ ]] || die "MAXMEMORY must look like 64mb, got '$MAXMEMORY'"
[[ $REDIS_PORT != "$CACHED_PORT" ]] || die "REDIS_PORT and CACHED_PORT must differ"
for tool in go redis-server redis-cli redis-benchmark timeout; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y redis-server redis-tools)"
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
declare -A PID=() # server name -> pid of the running server

# stop_server NAME: SIGTERM the server, SIGKILL it after 5s, and reap it.
stop_server() {
	local pid=${PID[$1]}
	unset "PID[$1]"
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local name
	for name in "${!PID[@]}"; do
		stop_server "$name"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_of() {
	case $1 in
	redis) echo "$REDIS_PORT" ;;
	cached) echo "$CACHED_PORT" ;;
	esac
}

# server_died NAME: report that a server is gone, with the end of its log.
server_died() {
	log "--- last lines of $1 log ---"
	tail -n 20 "$TMP/$1.log" >&2 || true
	die "$1 exited unexpectedly"
}

# check_alive NAME: fail if the server process has exited.
check_alive() {
	kill -0 "${PID[$1]}" 2>/dev/null || server_died "$1"
}

# start_server NAME [ARGS...]: start a fresh server on its loopback port and
# wait until it answers PING.
start_server() {
	local name=$1 port cmd var
	shift
	port=$(port_of "$name")
	if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
		die "port $port is already in use; set REDIS_PORT/CACHED_PORT"
	fi
	case $name in
	redis) cmd=(redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no "$@") ;;
	cached)
		# cached also reads CACHED_* settings from the environment; clear
		# them so only the flags here (the same as redis gets) apply.
		cmd=(env)
		for var in $(compgen -e); do
			if [[ $var == CACHED_* ]]; then cmd+=(-u "$var"); fi
		done
		cmd+=("$CACHED_BIN" --port "$port" --bind 127.0.0.1 "$@")
		;;
	esac
	"${cmd[@]}" >"$TMP/$name.log" 2>&1 &
	PID[$name]=$!
	for _ in $(seq 100); do
		[[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]] && return 0
		check_alive "$name"
		sleep 0.1
	done
	die "$name does not answer PING on port $port after 10s"
}

# rss_kib NAME: resident set size of the server in KiB.
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/${PID[$1]}/status"
}

# info_field NAME FIELD: a field of the server's INFO, or "n/a".
info_field() {
	local v
	v=$(redis-cli -h 127.0.0.1 -p "$(port_of "$1")" info 2>/dev/null |
		tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2; exit }') || true
	echo "${v:-n/a}"
}

cd "$ROOT"
log "building benchmark tools"
go build -o "$TMP/loadkeys" ./bench/cmd/loadkeys
go build -o "$TMP/zipfreplay" ./bench/cmd/zipfreplay
if [[ -z ${CACHED_BIN:-} ]]; then
	log "building ./cmd/cached"
	go build -o "$TMP/cached" ./cmd/cached || die "cannot build ./cmd/cached; set CACHED_BIN to a server binary"
	CACHED_BIN=$TMP/cached
fi
[[ -x $CACHED_BIN ]] || die "CACHED_BIN=$CACHED_BIN is not executable"

cat <<EOF
# cached vs redis-server

$(redis-server --version | awk '{ print $1, $2, $3 }'), $(go env GOOS)/$(go env GOARCH), $(nproc) CPUs; client and servers share the host, loopback only.

EOF

# 1. Throughput ---------------------------------------------------------------

results=$TMP/throughput.tsv
: >"$results"
start_server redis
start_server cached
for round in $(seq "$ROUNDS"); do
	if ((round % 2)); then order=(redis cached); else order=(cached redis); fi
	for pipeline in 1 16; do
		requests=$REQUESTS
		((pipeline == 1)) || requests=$PIPELINE_REQUESTS
		for name in "${order[@]}"; do
			log "throughput: round $round/$ROUNDS, -P $pipeline, $name"
			if ! timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$(port_of "$name")" \
				-t "$TESTS" -r 100000 -d 64 -c 50 -n "$requests" -P "$pipeline" -q --csv \
				>"$TMP/rb.csv" 2>"$TMP/rb.err"; then
				check_alive "$name"
				cat "$TMP/rb.err" >&2
				die "redis-benchmark failed or timed out against $name"
			fi
			check_alive "$name"
			# Data rows look like "SET","123456.79",...; the header starts with "test".
			awk -F'","' -v s="$name" -v p="$pipeline" '/^"/ && !/^"test"/ {
				sub(/^"/, "", $1); print s "\t" p "\t" $1 "\t" $2 }' "$TMP/rb.csv" >>"$results"
		done
	done
done
stop_server redis
stop_server cached

cat <<EOF
## Throughput

redis-benchmark -t $TESTS -r 100000 -d 64 -c 50 -n $REQUESTS (-P 1) or $PIPELINE_REQUESTS (-P 16); median of $ROUNDS round(s), server order alternating per round.

| test | pipeline | redis ops/s (median) | cached ops/s (median) | cached/redis |
|---|---:|---:|---:|---:|
EOF
mapfile -t tests < <(awk -F'\t' '!seen[$3]++ { print $3 }' "$results")
for test in "${tests[@]}"; do
	for pipeline in 1 16; do
		r=$(awk -F'\t' -v t="$test" -v p="$pipeline" '$1 == "redis" && $2 == p && $3 == t { print $4 }' "$results" | median)
		c=$(awk -F'\t' -v t="$test" -v p="$pipeline" '$1 == "cached" && $2 == p && $3 == t { print $4 }' "$results" | median)
		echo "| $test | $pipeline | $r | $c | $(calc "$c / $r" %.2f) |"
	done
done
echo

# 2. Bytes per key ------------------------------------------------------------

# memory_row NAME TYPE: load KEYS elements of TYPE into a fresh server NAME
# and print its table row: RSS and used_memory before, after and per element.
memory_row() {
	local name=$1 type=$2 rss0 rss1 used0 used1
	log "memory: loading $KEYS $type elements into $name"
	start_server "$name"
	rss0=$(rss_kib "$name")
	used0=$(info_field "$name" used_memory)
	"$TMP/loadkeys" -addr "127.0.0.1:$(port_of "$name")" -keys "$KEYS" -type "$type" -per-key "$PER_KEY" >&2 || {
		check_alive "$name"
		die "loadkeys -type $type failed against $name"
	}
	check_alive "$name"
	rss1=$(rss_kib "$name")
	used1=$(info_field "$name" used_memory)
	stop_server "$name"
	echo "| $name | $(calc "$rss0 / 1024" %.1f) | $(calc "$rss1 / 1024" %.1f) |" \
		"$(calc "($rss1 - $rss0) * 1024 / $KEYS" %.1f) | $(calc "$used1 / 1048576" %.1f) |" \
		"$(calc "($used1 - $used0) / $KEYS" %.1f) |"
}

cat <<EOF
## Memory per key

$KEYS keys \`key:%010d\` with 64-byte values, loaded with pipelined SETs into a fresh server.

| server | RSS before (MiB) | RSS after (MiB) | RSS delta bytes/key | used_memory after (MiB) | used_memory delta bytes/key |
|---|---:|---:|---:|---:|---:|
EOF
for name in redis cached; do
	memory_row "$name" string
done
echo

cat <<EOF
## Memory per collection element

$KEYS distinct 64-byte elements in collections of $PER_KEY (RPUSH; HSET of fields \`f:N\`; SADD; ZADD), loaded with pipelined commands into a fresh server.

| type | server | RSS before (MiB) | RSS after (MiB) | RSS delta bytes/element | used_memory after (MiB) | used_memory delta bytes/element |
|---|---|---:|---:|---:|---:|---:|
EOF
for type in list hash set zset; do
	for name in redis cached; do
		echo "| $type $(memory_row "$name" "$type")"
	done
done
echo

# 3. Cache effectiveness ------------------------------------------------------

cat <<EOF
## Cache effectiveness

Zipf (s=0.99) cache-aside replay: $ZIPF_REQUESTS GETs over $KEYS keys, SET of a 150-byte value on each miss, --maxmemory $MAXMEMORY.

| server | policy | hit ratio | RSS after (MiB) | used_memory (MiB) | evicted keys | rejected SETs |
|---|---|---:|---:|---:|---:|---:|
EOF
for config in "redis allkeys-lru" "redis allkeys-lfu" "cached default" "cached allkeys-lru" "cached allkeys-lfu"; do
	read -r name policy <<<"$config"
	args=(--maxmemory "$MAXMEMORY")
	[[ $policy == default ]] || args+=(--maxmemory-policy "$policy")
	log "hit ratio: $name $policy"
	start_server "$name" "${args[@]}"
	out=$("$TMP/zipfreplay" -addr "127.0.0.1:$(port_of "$name")" -keys "$KEYS" -requests "$ZIPF_REQUESTS" \
		-s 0.99 -value-size 150 -seed 1) || {
		check_alive "$name"
		die "zipfreplay failed against $name"
	}
	check_alive "$name"
	log "$out"
	hit=$(sed -n 's/.*hit_ratio=\([0-9.]*\).*/\1/p' <<<"$out")
	rejected=$(sed -n 's/.*set_errors=\([0-9]*\).*/\1/p' <<<"$out")
	rss=$(rss_kib "$name")
	used=$(info_field "$name" used_memory)
	evicted=$(info_field "$name" evicted_keys)
	stop_server "$name"
	echo "| $name | $policy | $hit | $(calc "$rss / 1024" %.1f) | $(calc "$used / 1048576" %.1f) | $evicted | $rejected |"
done
