#!/usr/bin/env bash
# persist.sh: benchmark cached's persistence against redis-server side by
# side and print the results as markdown on stdout (progress goes to stderr).
#
#   1. write throughput: redis-benchmark SET with appendonly yes, under
#      appendfsync everysec and always, servers alternated for ROUNDS rounds
#   2. restart time: RESTART_KEYS keys on disk as snapshot + log, log only and
#      snapshot only; time from process start until PING answers and DBSIZE
#      is RESTART_KEYS, median of ROUNDS restarts, plus the files' sizes
#
# Knobs (environment): ROUNDS, REQUESTS, ALWAYS_REQUESTS, RESTART_KEYS,
# DATA_DIR, CACHED_BIN, REDIS_PORT, CACHED_PORT, RUN_TIMEOUT,
# RESTART_TIMEOUT, STOP_TIMEOUT. See bench/README.md.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
ALWAYS_REQUESTS=${ALWAYS_REQUESTS:-$(((REQUESTS + 3) / 4))}
RESTART_KEYS=${RESTART_KEYS:-1000000}
DATA_DIR=${DATA_DIR:-${TMPDIR:-/tmp}}
REDIS_PORT=${REDIS_PORT:-16389}
CACHED_PORT=${CACHED_PORT:-16390}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
RESTART_TIMEOUT=${RESTART_TIMEOUT:-300}
STOP_TIMEOUT=${STOP_TIMEOUT:-60}

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for knob in ROUNDS REQUESTS ALWAYS_REQUESTS RESTART_KEYS REDIS_PORT CACHED_PORT RUN_TIMEOUT RESTART_TIMEOUT STOP_TIMEOUT; do
	[[ ${!knob} =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive integer, got '${!knob}'"
done
((RESTART_KEYS >= 2)) || die "RESTART_KEYS must be at least 2"
[[ $REDIS_PORT != "$CACHED_PORT" ]] || die "REDIS_PORT and CACHED_PORT must differ"
[[ -d $DATA_DIR && -w $DATA_DIR ]] || die "DATA_DIR=$DATA_DIR is not a writable directory"
for tool in go redis-server redis-cli redis-benchmark timeout du df; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y redis-server redis-tools)"
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)                             # tools, logs, scratch files
DATA=$(mktemp -d "$DATA_DIR/persist-bench.XXXXXX") # every server's data directory
declare -A PID=()                            # server name -> pid of the running server
declare -A DIR=()                            # server name -> its data directory
declare -A ARGS=()                           # server name -> its persistence flags

# stop_server NAME: SIGTERM the server and wait up to STOP_TIMEOUT for it to
# exit (a clean shutdown flushes the log); SIGKILL it after that, which the
# caller hears about: a killed server is a result, not a detail.
STOPPED_S=n/a
stop_server() {
	local pid=${PID[$1]} t0 i
	unset "PID[$1]"
	t0=$EPOCHREALTIME
	STOPPED_S=n/a
	kill "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null || true
		return 0
	}
	for ((i = 0; i < STOP_TIMEOUT * 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "WARNING: $1 (pid $pid) did not exit ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	wait "$pid" 2>/dev/null || true
	STOPPED_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

cleanup() {
	local name
	for name in "${!PID[@]}"; do
		stop_server "$name"
	done
	rm -rf "$TMP" "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_of() {
	case $1 in
	redis) echo "$REDIS_PORT" ;;
	cached) echo "$CACHED_PORT" ;;
	esac
}

cli() {
	local name=$1
	shift
	redis-cli -h 127.0.0.1 -p "$(port_of "$name")" "$@"
}

# server_died NAME: report that a server is gone, with the end of its log.
server_died() {
	log "--- last lines of $1 log ---"
	tail -n 20 "$TMP/$1.log" >&2 || true
	die "$1 exited unexpectedly"
}

check_alive() {
	kill -0 "${PID[$1]}" 2>/dev/null || server_died "$1"
}

# launch_server NAME: start the server on its loopback port with its data
# directory DIR[NAME], --save "" and flags ARGS[NAME], appending to its log, without
# waiting for it. LAUNCHED_NS is the Unix time in ns just before the fork.
LAUNCHED_NS=0
launch_server() {
	local name=$1 port cmd var
	port=$(port_of "$name")
	if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
		die "port $port is already in use; set REDIS_PORT/CACHED_PORT"
	fi
	# No automatic snapshots anywhere: only the writes under test reach disk.
	# shellcheck disable=SC2206 # ARGS values are plain words without globs
	local args=(--port "$port" --bind 127.0.0.1 --dir "${DIR[$name]}" --save "" ${ARGS[$name]})
	case $name in
	redis) cmd=(redis-server "${args[@]}") ;;
	cached)
		# cached also reads CACHED_* settings from the environment; clear
		# them so only the flags here (the same as redis gets) apply, and
		# keep its gRPC and admin listeners off fixed ports through the
		# environment, which a stand-in redis-server ignores.
		cmd=(env)
		for var in $(compgen -e); do
			if [[ $var == CACHED_* ]]; then cmd+=(-u "$var"); fi
		done
		cmd+=(CACHED_GRPC_PORT=0 CACHED_ADMIN_PORT=0 "$CACHED_BIN" "${args[@]}")
		;;
	esac
	echo "--- ${cmd[*]}" >>"$TMP/$name.log"
	LAUNCHED_NS=${EPOCHREALTIME/./}000
	"${cmd[@]}" >>"$TMP/$name.log" 2>&1 &
	PID[$name]=$!
}

# start_server NAME: launch the server and wait until it answers PING.
start_server() {
	local name=$1
	launch_server "$name"
	for _ in $(seq 300); do
		[[ $(cli "$name" ping 2>/dev/null) == PONG ]] && return 0
		check_alive "$name"
		sleep 0.1
	done
	die "$name does not answer PING on port $(port_of "$name") after 30s"
}

# fresh_dir NAME: give the server a new, empty data directory.
fresh_dir() {
	DIR[$1]=$(mktemp -d "$DATA/$1.XXXXXX")
}

# info_field NAME FIELD: a field of the server's INFO, or "n/a".
info_field() {
	local v
	v=$(cli "$1" info 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2; exit }') || true
	echo "${v:-n/a}"
}

# mib BYTES: bytes as MiB with one decimal.
mib() { calc "$1 / 1048576" %.1f; }

# dir_kib DIR: disk usage of a directory in KiB (du -sk).
dir_kib() { du -sk "$1" | awk '{ print $1 }'; }

# dir_files DIR: "name size, ..." of the files in a directory, largest first.
dir_files() {
	find "$1" -type f -printf '%s %P\n' | sort -rn | awk '
		function human(b) {
			if (b >= 1048576) return sprintf("%.1f MiB", b / 1048576)
			if (b >= 1024) return sprintf("%.1f KiB", b / 1024)
			return b " B"
		}
		{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, human($1) }'
}

# wait_persisted NAME: wait until a BGSAVE (cached) or BGREWRITEAOF (redis)
# has finished, then check that it succeeded.
wait_persisted() {
	local name=$1 fields
	for _ in $(seq $((RUN_TIMEOUT * 10))); do
		check_alive "$name"
		fields=$(cli "$name" info persistence 2>/dev/null | tr -d '\r')
		case $name in
		# cached's BGSAVE reports "started" before its goroutine marks the
		# save as in progress, so also wait for the change count to reset.
		cached) grep -q '^rdb_bgsave_in_progress:0$' <<<"$fields" &&
			grep -q '^rdb_changes_since_last_save:0$' <<<"$fields" && break ;;
		redis) grep -q '^aof_rewrite_in_progress:0$' <<<"$fields" &&
			grep -q '^aof_rewrite_scheduled:0$' <<<"$fields" && break ;;
		esac
		sleep 0.1
	done
	case $name in
	cached) grep -q '^rdb_last_bgsave_status:ok$' <<<"$fields" ||
		die "cached BGSAVE did not finish or failed: $(tr '\n' ' ' <<<"$fields")" ;;
	redis) grep -q '^aof_last_bgrewrite_status:ok$' <<<"$fields" &&
		grep -q '^aof_rewrite_in_progress:0$' <<<"$fields" ||
		die "redis BGREWRITEAOF did not finish or failed: $(tr '\n' ' ' <<<"$fields")" ;;
	esac
}

# load_keys NAME KEYS: write key:0 .. key:KEYS-1 with 64-byte values.
load_keys() {
	"$TMP/loadkeys" -addr "127.0.0.1:$(port_of "$1")" -keys "$2" -value-size 64 >&2 || {
		check_alive "$1"
		die "loadkeys failed against $1"
	}
}

# seconds DURATION: a Go duration (1.5s, 320ms, 2m3.1s, 900µs) in seconds.
seconds() {
	awk -v d="$1" 'BEGIN {
		if (d == "") { print "n/a"; exit }
		s = 0
		while (match(d, /^[0-9.]+(h|ms|us|µs|ns|m|s)/)) {
			tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
			match(tok, /[a-zµ]+$/); u = substr(tok, RSTART); n = substr(tok, 1, RSTART - 1) + 0
			if (u == "h") s += n * 3600; else if (u == "m") s += n * 60; else if (u == "s") s += n
			else if (u == "ms") s += n / 1e3; else if (u == "us" || u == "µs") s += n / 1e6; else s += n / 1e9
		}
		printf "%.3f\n", s
	}'
}

# loaded_s NAME: the server's own load time from the last start in its log.
loaded_s() {
	local last
	last=$(awk '/^--- / { n = NR } END { print n + 0 }' "$TMP/$1.log")
	case $1 in
	cached) seconds "$(tail -n +"$last" "$TMP/cached.log" | sed -n 's/.*msg="data loaded".* took=\([^ ]*\).*/\1/p' | tail -n 1)" ;;
	redis)
		tail -n +"$last" "$TMP/redis.log" |
			sed -n 's/.*DB loaded from \(disk\|append only file\): \([0-9.]*\) seconds.*/\2/p' |
			awk '{ v = $1 } END { if (NR) printf "%.3f\n", v; else print "n/a" }'
		;;
	esac
}

cd "$ROOT"
log "building benchmark tools"
go build -o "$TMP/loadkeys" ./bench/cmd/loadkeys
go build -o "$TMP/waitready" ./bench/cmd/waitready
if [[ -z ${CACHED_BIN:-} ]]; then
	log "building ./cmd/cached"
	go build -o "$TMP/cached" ./cmd/cached || die "cannot build ./cmd/cached; set CACHED_BIN to a server binary"
	CACHED_BIN=$TMP/cached
fi
[[ -x $CACHED_BIN ]] || die "CACHED_BIN=$CACHED_BIN is not executable"

read -r fstype fsdev fsmount < <(df -P -T "$DATA" | awk 'NR == 2 { print $2, $1, $7 }')
[[ $fstype != tmpfs ]] || log "WARNING: $DATA is on tmpfs, where fsync does nothing; set DATA_DIR to a disk"
cat <<EOF
# cached vs redis-server: persistence

$(redis-server --version | awk '{ print $1, $2, $3 }'), $(go env GOOS)/$(go env GOARCH), $(nproc) CPUs; client and servers share the host, loopback only.
Data directories: \`$DATA\` ($fstype on $fsdev, mounted at $fsmount), the same filesystem for both servers.
Redis runs with \`--auto-aof-rewrite-percentage 0\` because cached never rewrites its log by itself.

EOF

# 1. Write throughput ---------------------------------------------------------

results=$TMP/throughput.tsv
: >"$results"
sizes=$TMP/sizes.tsv
: >"$sizes"
for fsync in everysec always; do
	n=$REQUESTS
	[[ $fsync == always ]] && n=$ALWAYS_REQUESTS
	fresh_dir redis
	fresh_dir cached
	ARGS[redis]="--appendonly yes --appendfsync $fsync --auto-aof-rewrite-percentage 0"
	ARGS[cached]="--appendonly yes --appendfsync $fsync"
	start_server redis
	start_server cached
	for name in redis cached; do
		got=$(info_field "$name" aof_enabled)
		[[ $got == 1 ]] || die "$name: INFO aof_enabled is '$got', want 1"
	done
	for round in $(seq "$ROUNDS"); do
		if ((round % 2)); then order=(redis cached); else order=(cached redis); fi
		for pipeline in 1 16; do
			for name in "${order[@]}"; do
				log "throughput: appendfsync $fsync, round $round/$ROUNDS, -P $pipeline, $name"
				if ! timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$(port_of "$name")" \
					-t set -r 100000 -d 64 -c 50 -n "$n" -P "$pipeline" -q --csv \
					>"$TMP/rb.csv" 2>"$TMP/rb.err"; then
					check_alive "$name"
					cat "$TMP/rb.err" >&2
					die "redis-benchmark failed or timed out against $name"
				fi
				check_alive "$name"
				awk -F'","' -v f="$fsync" -v s="$name" -v p="$pipeline" '/^"/ && !/^"test"/ {
					print f "\t" s "\t" p "\t" $2 }' "$TMP/rb.csv" >>"$results"
			done
		done
	done
	for name in redis cached; do
		printf '%s\t%s\t%s\t%s\n' "$fsync" "$name" "$(dir_kib "${DIR[$name]}")" \
			"$(info_field "$name" aof_current_size)" >>"$sizes"
		stop_server "$name"
		rm -rf "${DIR[$name]}"
	done
done

cat <<EOF
## Write throughput

\`redis-benchmark -t set -r 100000 -d 64 -c 50\`, -n $REQUESTS (everysec) and -n $ALWAYS_REQUESTS (always), \`--appendonly yes --save ""\`; median of $ROUNDS round(s), server order alternating per round; both servers start empty for each appendfsync policy.

| appendfsync | pipeline | redis SET/s (median) | cached SET/s (median) | cached/redis |
|---|---:|---:|---:|---:|
EOF
for fsync in everysec always; do
	for pipeline in 1 16; do
		r=$(awk -F'\t' -v f="$fsync" -v p="$pipeline" '$1 == f && $2 == "redis" && $3 == p { print $4 }' "$results" | median)
		c=$(awk -F'\t' -v f="$fsync" -v p="$pipeline" '$1 == f && $2 == "cached" && $3 == p { print $4 }' "$results" | median)
		echo "| $fsync | $pipeline | $r | $c | $(calc "$c / $r" %.2f) |"
	done
done
cat <<EOF

Data directory afterwards (all rounds' SETs, nothing rewritten):

| appendfsync | server | du (MiB) | INFO aof_current_size (MiB) |
|---|---|---:|---:|
EOF
while IFS=$'\t' read -r fsync name kib aof; do
	echo "| $fsync | $name | $(calc "$kib / 1024" %.1f) | $(mib "$aof") |"
done <"$sizes"
echo

# 2. Restart time -------------------------------------------------------------

# Each case: a server, a label, its persistence flags, and how its data is
# written (prepare_case). The same data directory is then restarted ROUNDS
# times with the same flags.
half=$((RESTART_KEYS / 2))
cases=(
	"cached|snapshot + log|--appendonly yes --appendfsync everysec|half"
	"redis|RDB preamble + AOF (multi-part)|--appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0|half"
	"cached|log only|--appendonly yes --appendfsync everysec|log"
	"redis|AOF only|--appendonly yes --appendfsync everysec --auto-aof-rewrite-percentage 0|log"
	"cached|snapshot only (SAVE, empty log)|--appendonly yes --appendfsync everysec|save"
	"redis|RDB only (SAVE)|--appendonly no|save"
)

# prepare_case NAME HOW: write RESTART_KEYS keys into the running server.
#   half: write half the keys, BGSAVE (cached) or BGREWRITEAOF (redis), then
#         write all keys (the first half again, the same values): the
#         snapshot holds half, the log everything written after it.
#   log:  write all keys; nothing but the log holds them.
#   save: write all keys, then SAVE.
prepare_case() {
	local name=$1 how=$2 reply
	case $how in
	half)
		load_keys "$name" "$half"
		if [[ $name == cached ]]; then reply=$(cli "$name" bgsave); else reply=$(cli "$name" bgrewriteaof); fi
		log "$name: $reply"
		wait_persisted "$name"
		load_keys "$name" "$RESTART_KEYS"
		;;
	log) load_keys "$name" "$RESTART_KEYS" ;;
	save)
		load_keys "$name" "$RESTART_KEYS"
		reply=$(cli "$name" save)
		[[ $reply == OK ]] || die "$name: SAVE answered '$reply'"
		;;
	esac
	reply=$(cli "$name" dbsize)
	[[ $reply == "$RESTART_KEYS" ]] || die "$name: DBSIZE is $reply after loading, want $RESTART_KEYS"
}

restarts=$TMP/restarts.tsv
: >"$restarts"
summary=$TMP/restart-summary.tsv
: >"$summary"
for spec in "${cases[@]}"; do
	IFS='|' read -r name label flags how <<<"$spec"
	fresh_dir "$name"
	ARGS[$name]=$flags
	log "restart: $name, $label: writing $RESTART_KEYS keys"
	start_server "$name"
	prepare_case "$name" "$how"
	stop_server "$name"
	[[ $STOPPED_S != n/a ]] || log "WARNING: $name was killed after writing; restart numbers below load what SIGKILL left"
	first_stop=$STOPPED_S
	files=$(dir_files "${DIR[$name]}")
	kib=$(dir_kib "${DIR[$name]}")
	failures=""
	for round in $(seq "$ROUNDS"); do
		log "restart: $name, $label: round $round/$ROUNDS"
		launch_server "$name"
		if ! out=$("$TMP/waitready" -addr "127.0.0.1:$(port_of "$name")" -keys "$RESTART_KEYS" \
			-since "$LAUNCHED_NS" -timeout "${RESTART_TIMEOUT}s"); then
			log "$name did not reach DBSIZE $RESTART_KEYS: $out"
			kill -0 "${PID[$name]}" 2>/dev/null || log "$name exited; see its log: $(tail -n 5 "$TMP/$name.log")"
			failures+=" ${out##*dbsize=}"
		fi
		log "$out"
		ready=$(sed -n 's/.*ready_s=\([^ ]*\).*/\1/p' <<<"$out")
		own=$(loaded_s "$name")
		stop_server "$name"
		printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$label" "$ready" "$own" "$STOPPED_S" >>"$restarts"
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$label" "$kib" "$files" "$first_stop" "$failures" >>"$summary"
	rm -rf "${DIR[$name]}"
done

cat <<EOF
## Restart time

$RESTART_KEYS keys \`key:%010d\` with 64-byte values written with pipelined SETs (\`cmd/loadkeys\`), appendfsync everysec, then SIGTERM and start again on the same directory. *ready* runs from the fork of the server process until PING answers PONG (not LOADING) and DBSIZE is $RESTART_KEYS (\`cmd/waitready\`, polling every 2 ms); *own* is the server's log line (cached \`data loaded ... took=\`, redis \`DB loaded from ...: N seconds\`); *stop* is SIGTERM to exit, once after writing (the log is flushed) and on each restarted server. Medians of $ROUNDS restart(s) of the same files.

| server | on disk | ready (s) | own load (s) | stop after writes (s) | stop after restart (s) | du (MiB) | files |
|---|---|---:|---:|---:|---:|---:|---|
EOF
while IFS=$'\t' read -r name label kib files first_stop failures; do
	ready=$(awk -F'\t' -v s="$name" -v l="$label" '$1 == s && $2 == l && $3 != "n/a" { print $3 }' "$restarts" | median %.3f)
	own=$(awk -F'\t' -v s="$name" -v l="$label" '$1 == s && $2 == l && $4 != "n/a" { print $4 }' "$restarts" | median %.3f)
	stop=$(awk -F'\t' -v s="$name" -v l="$label" '$1 == s && $2 == l && $5 != "n/a" { print $5 }' "$restarts" | median %.2f)
	[[ -z $failures ]] || ready="$ready (never ready in $(wc -w <<<"$failures") round(s); DBSIZE seen:$failures)"
	echo "| $name | $label | $ready | $own | $first_stop | $stop | $(calc "$kib / 1024" %.1f) | $files |"
done <"$summary"
