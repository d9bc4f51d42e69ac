#!/usr/bin/env bash
# cluster.sh: benchmark a 3-node cached cluster against a single cached node
# on loopback and print the results as markdown on stdout (progress goes to
# stderr).
#
#   1. throughput: redis-benchmark -t set,get at -P 1 and -P 16 against the
#      single node, and against each cluster both through one node (a plain
#      client: about 2/3 of the commands are forwarded one hop) and with
#      --cluster (direct routing); medians of ROUNDS rounds
#   2. forwarding hop: cmd/hoplatency times GET and SET one at a time to one
#      node, keys it owns against keys it forwards
#   3. rebalance: cmd/clusterload loads REBALANCE_KEYS keys into a 3-node
#      cluster, a 4th node joins, and the script times until the cluster
#      reports the hand-off done, then checks DBSIZE and a sample of keys
#
# Knobs (environment): ROUNDS, REQUESTS, RUN_SECONDS, KEYSPACE, CLUSTER_REPLICAS,
# HOP_REQUESTS, REBALANCE_KEYS, REBALANCE_REPLICAS, VERIFY_KEYS, SETTLE,
# CACHED_BIN, BASE_PORT, RUN_TIMEOUT, FORM_TIMEOUT, REBALANCE_TIMEOUT.
# See bench/README.md.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-100000}
KEYSPACE=${KEYSPACE:-100000}
CLUSTER_REPLICAS=${CLUSTER_REPLICAS:-2 1}
HOP_REQUESTS=${HOP_REQUESTS:-10000}
REBALANCE_KEYS=${REBALANCE_KEYS:-1000000}
REBALANCE_REPLICAS=${REBALANCE_REPLICAS:-2}
VERIFY_KEYS=${VERIFY_KEYS:-1000}
SETTLE=${SETTLE:-31}
BASE_PORT=${BASE_PORT:-7100}
RUN_SECONDS=${RUN_SECONDS:-3}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
FORM_TIMEOUT=${FORM_TIMEOUT:-60}
REBALANCE_TIMEOUT=${REBALANCE_TIMEOUT:-300}

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for knob in ROUNDS REQUESTS RUN_SECONDS KEYSPACE HOP_REQUESTS REBALANCE_KEYS REBALANCE_REPLICAS VERIFY_KEYS \
	BASE_PORT RUN_TIMEOUT FORM_TIMEOUT REBALANCE_TIMEOUT; do
	[[ ${!knob} =~ ^[1-9][0-9]*$ ]] || die "$knob must be a positive integer, got '${!knob}'"
done
[[ $SETTLE =~ ^[0-9]+$ ]] || die "SETTLE must be a whole number of seconds, got '$SETTLE'"
read -ra replicas_list <<<"${CLUSTER_REPLICAS//,/ }"
((${#replicas_list[@]} >= 1 && ${#replicas_list[@]} <= 4)) || die "CLUSTER_REPLICAS must list 1 to 4 replica counts, got '$CLUSTER_REPLICAS'"
for r in "${replicas_list[@]}" "$REBALANCE_REPLICAS"; do
	[[ $r =~ ^[1-3]$ ]] || die "replica counts must be 1, 2 or 3 (3 nodes), got '$r'"
done
((BASE_PORT >= 1024 && BASE_PORT + 10100 < 65536)) || die "BASE_PORT must leave room for BASE_PORT+10100, got $BASE_PORT"
for tool in go redis-cli redis-benchmark timeout; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y redis-tools)"
done

# Ports. Node i of a cluster listens on a client port, its peer port (client
# + 10000) and its gossip port (client + 100):
#   single node   BASE_PORT
#   cluster k     BASE_PORT + 10k + 1..3   (k = 1.. for CLUSTER_REPLICAS)
#   rebalance     BASE_PORT + 91..94
SINGLE_PORT=$BASE_PORT
REBALANCE_BASE=$((BASE_PORT + 90))

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
declare -A PID=()  # node name -> pid of the running server
declare -A PORT=() # node name -> client port

# stop_nodes NAME...: SIGTERM the nodes together, SIGKILL what is left after
# 5s (a cluster node hands its slots off before it exits), and reap them.
stop_nodes() {
	local name pids=()
	for name in "$@"; do
		[[ -n ${PID[$name]:-} ]] || continue
		pids+=("${PID[$name]}")
		kill "${PID[$name]}" 2>/dev/null || true
		unset "PID[$name]"
	done
	((${#pids[@]})) || return 0
	local pid alive
	for _ in $(seq 50); do
		alive=0
		for pid in "${pids[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

cleanup() {
	stop_nodes "${!PID[@]}"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# node_died NAME: report that a node is gone, with the end of its log.
node_died() {
	log "--- last lines of $1 log ---"
	tail -n 20 "$TMP/$1.log" >&2 || true
	die "node $1 (port ${PORT[$1]}) exited unexpectedly"
}

# check_alive NAME...: fail if a node process has exited.
check_alive() {
	local name
	for name in "$@"; do
		kill -0 "${PID[$name]}" 2>/dev/null || node_died "$name"
	done
}

# port_in_use PORT: whether something accepts TCP connections on PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_node NAME PORT [ARGS...]: start cached on loopback PORT (cluster
# nodes: peer PORT+10000, gossip PORT+100) and wait until it answers PING.
start_node() {
	local name=$1 port=$2 var p
	shift 2
	for p in "$port" $((port + 100)) $((port + 10000)); do
		! port_in_use "$p" || die "port $p is already in use; set BASE_PORT"
	done
	# cached also reads CACHED_* settings from the environment; clear them
	# so only the flags here apply.
	local cmd=(env)
	for var in $(compgen -e); do
		if [[ $var == CACHED_* ]]; then cmd+=(-u "$var"); fi
	done
	cmd+=("$CACHED_BIN" --port "$port" --bind 127.0.0.1 "${EXTRA_FLAGS[@]}" "$@")
	"${cmd[@]}" >"$TMP/$name.log" 2>&1 &
	PID[$name]=$!
	PORT[$name]=$port
	for _ in $(seq 100); do
		[[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]] && return 0
		check_alive "$name"
		sleep 0.1
	done
	die "node $name does not answer PING on port $port after 10s"
}

# cluster_args NAME PORT REPLICAS SEED_PORT: cached flags for a cluster node;
# SEED_PORT 0 starts a new cluster.
cluster_args() {
	local args=(--node-name "$1" --peer-port $(($2 + 10000)) --gossip-port $(($2 + 100))
		--replicas "$3" --min-members 3 --cluster-enabled yes)
	if (($4)); then args+=(--join "127.0.0.1:$(($4 + 100))"); fi
	echo "${args[@]}"
}

# info_cluster NAME: the node's INFO cluster, CRs stripped (empty on error).
info_cluster() {
	redis-cli -h 127.0.0.1 -p "${PORT[$1]}" info cluster 2>/dev/null | tr -d '\r' || true
}

# field TEXT NAME: the value of NAME:value in TEXT, or "n/a".
field() {
	local v
	v=$(awk -F: -v f="$2" '$1 == f { print $2; exit }' <<<"$1")
	echo "${v:-n/a}"
}

# dbsize NAME: DBSIZE through the node (the whole cluster's keys), or "n/a".
dbsize() {
	local v
	v=$(redis-cli -h 127.0.0.1 -p "${PORT[$1]}" dbsize 2>/dev/null | tr -d '\r') || true
	[[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo n/a
}

# wait_formed TIMEOUT NAME...: wait until every node sees all of them as
# members, is ready, and the primaries' slot counts add up to 16384.
wait_formed() {
	local timeout=$1 name info total state
	shift
	local deadline=$((SECONDS + timeout))
	while :; do
		check_alive "$@"
		total=0 state=
		for name in "$@"; do
			info=$(info_cluster "$name")
			state+=" $name:members=$(field "$info" cluster_members),ready=$(field "$info" cluster_ready)"
			if [[ $(field "$info" cluster_members) == "$#" && $(field "$info" cluster_ready) == 1 ]]; then
				total=$((total + $(field "$info" cluster_slots_primary)))
			else
				total=-1
				break
			fi
		done
		((total == 16384)) && return 0
		((SECONDS < deadline)) || die "cluster of $* did not form after ${timeout}s:$state, primary slots $total"
		sleep 0.2
	done
}

# start_cluster PREFIX BASE REPLICAS: start nodes PREFIX-n1..n3 on ports
# BASE+1..3 and wait until they form a cluster.
start_cluster() {
	local prefix=$1 base=$2 replicas=$3 i
	# shellcheck disable=SC2046 # cluster_args words are flags
	start_node "$prefix-n1" $((base + 1)) $(cluster_args "$prefix-n1" $((base + 1)) "$replicas" 0)
	for i in 2 3; do
		# shellcheck disable=SC2046
		start_node "$prefix-n$i" $((base + i)) $(cluster_args "$prefix-n$i" $((base + i)) "$replicas" $((base + 1)))
	done
	wait_formed "$FORM_TIMEOUT" "$prefix-n1" "$prefix-n2" "$prefix-n3"
	log "cluster $prefix formed (replicas $replicas, ports $((base + 1))-$((base + 3)))"
}

# now: seconds since the epoch with milliseconds.
now() { date +%s.%3N; }

cd "$ROOT"
log "building benchmark tools"
go build -o "$TMP/clusterload" ./bench/cmd/clusterload
go build -o "$TMP/hoplatency" ./bench/cmd/hoplatency
if [[ -z ${CACHED_BIN:-} ]]; then
	log "building ./cmd/cached"
	go build -o "$TMP/cached" ./cmd/cached || die "cannot build ./cmd/cached; set CACHED_BIN to a server binary"
	CACHED_BIN=$TMP/cached
fi
[[ -x $CACHED_BIN ]] || die "CACHED_BIN=$CACHED_BIN is not executable"
# Several nodes share this host, so no listener may keep a fixed default
# port: where the binary has them, switch the admin HTTP server off and let
# gRPC pick a free port.
EXTRA_FLAGS=()
help=$("$CACHED_BIN" -help 2>&1 || true)
if [[ $help == *-admin-port* ]]; then EXTRA_FLAGS+=(--admin-port 0); fi
if [[ $help == *-grpc-port* ]]; then EXTRA_FLAGS+=(--grpc-port 0); fi

cat <<EOF
# cached: single node vs cluster

$(redis-benchmark --version | awk '{ print $1, $2 }'), $(go env GOOS)/$(go env GOARCH), $(nproc) CPUs; every node and the client share the host, loopback only.

EOF

# Setups of sections 1 and 2 ----------------------------------------------------

setups=(single)             # row labels, in order
declare -A SETUP_NODE=()    # setup -> node the client talks to
declare -A SETUP_OPTS=()    # setup -> extra redis-benchmark flags
declare -A SETUP_CLUSTER=() # setup -> cluster prefix
clusters=()
start_node single "$SINGLE_PORT"
SETUP_NODE[single]=single
SETUP_OPTS[single]=
k=0
for r in "${replicas_list[@]}"; do
	k=$((k + 1))
	prefix=r$r
	[[ -z ${SETUP_CLUSTER["3 nodes r$r, via one node"]:-} ]] || die "CLUSTER_REPLICAS lists $r twice"
	start_cluster "$prefix" $((BASE_PORT + 10 * k)) "$r"
	clusters+=("$prefix")
	for mode in "via one node" "--cluster"; do
		s="3 nodes r$r, $mode"
		setups+=("$s")
		SETUP_NODE[$s]=$prefix-n1
		SETUP_CLUSTER[$s]=$prefix
		SETUP_OPTS[$s]=
		if [[ $mode == --cluster ]]; then SETUP_OPTS[$s]=--cluster; fi
	done
done
all_nodes=(single)
for prefix in "${clusters[@]}"; do all_nodes+=("$prefix-n1" "$prefix-n2" "$prefix-n3"); done

# For 30s after a cluster forms, a node treats its primary slots as still
# arriving and fetches a key it lacks from two peers before running a
# command on it (loading new keys then runs 4-5x slower). Measure the
# steady state after that window.
if ((SETTLE > 0)); then
	log "waiting ${SETTLE}s for the clusters' import window to close (SETTLE)"
	sleep "$SETTLE"
	check_alive "${all_nodes[@]}"
fi

# 1. Throughput ---------------------------------------------------------------

# rb_run SETUP PIPELINE TEST N: run redis-benchmark once and set RB_RPS and
# RB_P50 (ms) from its CSV.
rb_run() {
	local s=$1 pipeline=$2 test=$3 n=$4 name=${SETUP_NODE[$1]} row
	# shellcheck disable=SC2086 # SETUP_OPTS is empty or one flag
	if ! timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" ${SETUP_OPTS[$s]} \
		-t "$test" -r "$KEYSPACE" -d 64 -c 50 -n "$n" -P "$pipeline" -q --csv \
		>"$TMP/rb.csv" 2>"$TMP/rb.err"; then
		check_alive "${all_nodes[@]}"
		cat "$TMP/rb.csv" "$TMP/rb.err" >&2
		die "redis-benchmark -t $test -n $n -P $pipeline failed or timed out (RUN_TIMEOUT=${RUN_TIMEOUT}s) against $s"
	fi
	check_alive "${all_nodes[@]}"
	# The data row looks like "SET","123456.79","0.123","0.012","0.111",...
	# (rps, avg, min, p50 ms); --cluster first prints the masters.
	row=$(awk -F'","' '/^"/ && !/^"test"/ { print $2, $5; exit }' "$TMP/rb.csv")
	read -r RB_RPS RB_P50 <<<"$row"
	[[ ${RB_RPS:-} =~ ^[0-9.]+$ && $RB_RPS != 0.00 ]] ||
		die "no result from redis-benchmark -t $test against $s: $(head -c 500 "$TMP/rb.csv")"
}

# Size each run to last about RUN_SECONDS. redis-benchmark --cluster rounds
# a run's duration up to a multiple of 250ms (it notices the end on a 250ms
# timer), so a short run reads far too slow: -n 20000 at -P 16 reports
# 80k ops/s where 1,000,000 requests report 800k. Warm-up runs, not
# recorded, grow -n from REQUESTS until one lasts a second, and the
# measured rate then gives -n for RUN_SECONDS.
declare -A RUN_N=() # "setup|pipeline|test" -> redis-benchmark -n
max_n=$((REQUESTS * 100))
for pipeline in 1 16; do
	for s in "${setups[@]}"; do
		for test in set get; do
			n=$REQUESTS
			for try in 1 2 3 4; do
				rb_run "$s" "$pipeline" "$test" "$n"
				if awk -v n="$n" -v r="$RB_RPS" 'BEGIN { exit !(n / r >= 1) }' || ((try == 4)); then break; fi
				n=$((n * 4))
			done
			RUN_N[$s|$pipeline|$test]=$(awk -v r="$RB_RPS" -v t="$RUN_SECONDS" -v lo="$REQUESTS" -v hi="$max_n" \
				'BEGIN { n = r * t; if (n < lo) n = lo; if (n > hi) n = hi; printf "%d", n }')
			log "throughput: sized -P $pipeline $test on $s: $RB_RPS ops/s at -n $n, so -n ${RUN_N[$s|$pipeline|$test]}"
		done
	done
done

results=$TMP/throughput.tsv
: >"$results"
for round in $(seq "$ROUNDS"); do
	order=("${setups[@]}")
	if ((round % 2 == 0)); then
		# Alternate the order so that no setup always runs first.
		for ((i = 0; i < ${#setups[@]}; i++)); do order[i]=${setups[${#setups[@]} - 1 - i]}; done
	fi
	for pipeline in 1 16; do
		for s in "${order[@]}"; do
			log "throughput: round $round/$ROUNDS, -P $pipeline, $s"
			for test in set get; do
				n=${RUN_N[$s|$pipeline|$test]}
				rb_run "$s" "$pipeline" "$test" "$n"
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$pipeline" "${test^^}" "$RB_RPS" "$RB_P50" "$n" >>"$results"
			done
		done
	done
done

cat <<EOF
## Throughput

redis-benchmark -t set, then -t get, -r $KEYSPACE -d 64 -c 50, -n sized per row to last about ${RUN_SECONDS}s; median of $ROUNDS round(s), setup order reversed every other round.
"via one node" sends every command to one node, which forwards the ~2/3 it is not the primary for; "--cluster" is redis-benchmark --cluster, routing each command to its slot's primary. rN: N copies of each slot (--replicas N), replicated asynchronously.

| test | pipeline | setup | ops/s (median) | vs single | p50 ms (median) | requests per run |
|---|---:|---|---:|---:|---:|---:|
EOF
for test in SET GET; do
	for pipeline in 1 16; do
		base=$(awk -F'\t' -v t="$test" -v p="$pipeline" '$1 == "single" && $2 == p && $3 == t { print $4 }' "$results" | median)
		for s in "${setups[@]}"; do
			rps=$(awk -F'\t' -v s="$s" -v t="$test" -v p="$pipeline" '$1 == s && $2 == p && $3 == t { print $4 }' "$results" | median)
			p50=$(awk -F'\t' -v s="$s" -v t="$test" -v p="$pipeline" '$1 == s && $2 == p && $3 == t { print $5 }' "$results" | median %.3f)
			n=$(awk -F'\t' -v s="$s" -v t="$test" -v p="$pipeline" '$1 == s && $2 == p && $3 == t { print $6; exit }' "$results")
			echo "| $test | $pipeline | $s | $rps | $(calc "$rps / $base" %.2f) | $p50 | $n |"
		done
	done
done
echo

# 2. Forwarding hop -------------------------------------------------------------

hops=$TMP/hop.txt
: >"$hops"
hop_setups=(single)
for prefix in "${clusters[@]}"; do hop_setups+=("$prefix"); done
for round in $(seq "$ROUNDS"); do
	for s in "${hop_setups[@]}"; do
		name=$s
		[[ $s == single ]] || name=$s-n1
		log "forwarding hop: round $round/$ROUNDS, $s"
		out=$(timeout "$RUN_TIMEOUT" "$TMP/hoplatency" -addr "127.0.0.1:${PORT[$name]}" -requests "$HOP_REQUESTS") || {
			check_alive "${all_nodes[@]}"
			die "hoplatency failed against $s"
		}
		check_alive "${all_nodes[@]}"
		log "$out"
		sed -n "s/^op=/setup=$s op=/p" <<<"$out" >>"$hops"
	done
done

# hop_stat SETUP OP CLASS FIELD: median over rounds of FIELD (e.g. p50_us).
hop_stat() {
	awk -v s="setup=$1" -v o="op=$2" -v c="class=$3" -v f="$4" '$1 == s && $2 == o && $3 == c {
		for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' "$hops" | median %.0f
}

cat <<EOF
## Forwarding hop

cmd/hoplatency: one client, one request at a time (-P 1 -c 1) to node 1, $HOP_REQUESTS timed requests per row and round, alternating between keys node 1 is the primary of (local) and keys another node is the primary of (forwarded one hop, checked against INFO cluster_keys_forwarded). Medians over $ROUNDS round(s), in microseconds; the single node's keys are all local.

| setup | op | local p50 µs | forwarded p50 µs | hop p50 µs | local p99 µs | forwarded p99 µs |
|---|---|---:|---:|---:|---:|---:|
EOF
for s in "${hop_setups[@]}"; do
	label=$s
	[[ $s == single ]] || label="3 nodes ${s}"
	for op in GET SET; do
		lp50=$(hop_stat "$s" "$op" local p50_us)
		lp99=$(hop_stat "$s" "$op" local p99_us)
		if [[ $s == single ]]; then
			fp50=- fp99=- hop=-
		else
			fp50=$(hop_stat "$s" "$op" forwarded p50_us)
			fp99=$(hop_stat "$s" "$op" forwarded p99_us)
			hop=$(calc "$fp50 - $lp50" %.0f)
		fi
		echo "| $label | $op | $lp50 | $fp50 | $hop | $lp99 | $fp99 |"
	done
done
echo

# Any forwarding errors would make the numbers above suspect.
for prefix in "${clusters[@]}"; do
	for i in 1 2 3; do
		info=$(info_cluster "$prefix-n$i")
		errs=$(field "$info" cluster_forward_errors)
		[[ $errs == 0 ]] || log "warning: $prefix-n$i reports cluster_forward_errors:$errs"
	done
done
stop_nodes "${all_nodes[@]}"

# 3. Rebalance ----------------------------------------------------------------

rb=(rb-n1 rb-n2 rb-n3)
log "rebalance: starting 3 nodes (replicas $REBALANCE_REPLICAS)"
start_cluster rb "$REBALANCE_BASE" "$REBALANCE_REPLICAS"
if ((SETTLE > 0)); then
	# In the import window every SET of a new key first asks two peers
	# for it: loading runs several times slower.
	log "rebalance: waiting ${SETTLE}s for the import window to close (SETTLE)"
	sleep "$SETTLE"
fi
seeds=127.0.0.1:$((REBALANCE_BASE + 1)),127.0.0.1:$((REBALANCE_BASE + 2)),127.0.0.1:$((REBALANCE_BASE + 3))
log "rebalance: loading $REBALANCE_KEYS keys"
load_out=$("$TMP/clusterload" -addrs "$seeds" -keys "$REBALANCE_KEYS") || {
	check_alive "${rb[@]}"
	die "clusterload failed to load $REBALANCE_KEYS keys"
}
log "$load_out"
load_secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$load_out")
load_secs=${load_secs:-n/a}

# wait_loaded: wait until replication has caught up and DBSIZE is N.
deadline=$((SECONDS + FORM_TIMEOUT))
while :; do
	check_alive "${rb[@]}"
	lag=0
	for name in "${rb[@]}"; do
		l=$(field "$(info_cluster "$name")" cluster_replication_lag)
		[[ $l == 0 ]] || lag=$l
	done
	size=$(dbsize rb-n1)
	[[ $lag == 0 && $size == "$REBALANCE_KEYS" ]] && break
	((SECONDS < deadline)) || die "after loading, DBSIZE is $size (want $REBALANCE_KEYS) and replication lag $lag after ${FORM_TIMEOUT}s"
	sleep 0.2
done

declare -A moved0=()
for name in "${rb[@]}"; do
	moved0[$name]=$(field "$(info_cluster "$name")" cluster_keys_handed_off)
done
moved0[rb-n4]=0

log "rebalance: starting node 4"
rb+=(rb-n4)
t0=$(now)
# shellcheck disable=SC2046
start_node rb-n4 $((REBALANCE_BASE + 4)) $(cluster_args rb-n4 $((REBALANCE_BASE + 4)) "$REBALANCE_REPLICAS" $((REBALANCE_BASE + 1)))

# Poll every node until the hand-off is over. cluster_slots_to_hand_off is
# only updated at the end of each hand-off pass, so it reads 0 while the
# first pass after the join is still streaming: "done" also needs DBSIZE
# back at N (a new primary's keys count once they arrive) and the
# cluster_keys_handed_off counters unchanged since the previous poll.
t_members= t_owns= t_done= prev_moved=-1 state= owns=0
deadline=$((SECONDS + REBALANCE_TIMEOUT))
while :; do
	check_alive "${rb[@]}"
	t=$(now)
	all_members=1 pending=0 lag=0 moved=0 state=
	for name in "${rb[@]}"; do
		info=$(info_cluster "$name")
		m=$(field "$info" cluster_members)
		h=$(field "$info" cluster_slots_to_hand_off)
		l=$(field "$info" cluster_replication_lag)
		o=$(field "$info" cluster_keys_handed_off)
		p=$(field "$info" cluster_slots_primary)
		state+=" $name:members=$m,primary=$p,to_hand_off=$h,lag=$l,handed_off=$o"
		[[ $m == 4 ]] || all_members=0
		[[ $h == 0 ]] || pending=1
		[[ $l == 0 ]] || lag=1
		if [[ $o =~ ^[0-9]+$ ]]; then moved=$((moved + o - moved0[$name])); fi
		if [[ $name == rb-n4 ]]; then owns=$p; fi
	done
	size=$(dbsize rb-n4)
	state+=" dbsize=$size"
	if [[ -z $t_members ]] && ((all_members)); then
		t_members=$t
		log "rebalance: all nodes see 4 members after $(calc "$t - $t0" %.2f)s"
	fi
	if [[ -z $t_owns && $owns =~ ^[1-9] ]] && ((all_members)); then
		t_owns=$t
		log "rebalance: node 4 owns $owns primary slots after $(calc "$t - $t0" %.2f)s"
	fi
	if [[ -n $t_owns ]] && ((!pending && !lag)) && [[ $size == "$REBALANCE_KEYS" ]]; then
		if ((moved == prev_moved)); then
			break
		fi
		t_done=$t # the first poll of a quiet streak
	else
		t_done=
	fi
	prev_moved=$moved
	if ((SECONDS >= deadline)); then
		log "last state:$state"
		[[ -n $t_members ]] || die "node 4 never joined (cluster_members:4 on every node) after ${REBALANCE_TIMEOUT}s"
		[[ -n $t_owns ]] || die "node 4 never owned slots after ${REBALANCE_TIMEOUT}s"
		die "rebalance not finished after ${REBALANCE_TIMEOUT}s (REBALANCE_TIMEOUT)"
	fi
	sleep 0.2
done
[[ -n $t_done ]] || t_done=$t
log "rebalance: done after $(calc "$t_done - $t0" %.2f)s;$state"

info4=$(info_cluster rb-n4)
slots4=$(($(field "$info4" cluster_slots_primary) + $(field "$info4" cluster_slots_replica)))
size_after=$(dbsize rb-n1)
verify_out=$("$TMP/clusterload" -addrs "127.0.0.1:$((REBALANCE_BASE + 4))" -keys "$REBALANCE_KEYS" -verify "$VERIFY_KEYS" 2>&1) || {
	log "$verify_out"
	die "keys missing or wrong after the rebalance"
}
log "$verify_out"
[[ $size_after == "$REBALANCE_KEYS" ]] || die "DBSIZE is $size_after after the rebalance, want $REBALANCE_KEYS"
stop_nodes "${rb[@]}"
# Keys moved per second of hand-off; n/a when it was over by the first poll.
rate=$(awk -v m="$moved" -v d="$(calc "$t_done - $t_members" %.3f)" 'BEGIN { if (d > 0) printf "%.0f", m / d; else print "n/a" }')

cat <<EOF
## Rebalance

cmd/clusterload loads $REBALANCE_KEYS keys (64-byte values, pipelined SETs through a cluster client) into 3 nodes with --replicas $REBALANCE_REPLICAS; a 4th node then joins. Times count from starting node 4's process ("hand-off" from the first poll that found all 4 nodes seeing each other); "rebalanced" is the first poll (every 0.2s) from which every node reports cluster_slots_to_hand_off:0 and cluster_replication_lag:0, DBSIZE is back at $REBALANCE_KEYS and cluster_keys_handed_off stays put. Keys moved is the sum of the cluster_keys_handed_off deltas; the lower bound is the keys of the slot copies node 4 took over, $REBALANCE_KEYS × its $slots4 primary and replica slots / 16384. Afterwards DBSIZE and $VERIFY_KEYS sampled keys are checked.

| keys | replicas | load s | 4 members after s | node 4 owns slots after s | rebalanced after s | hand-off s | keys moved | lower bound | keys moved/s | DBSIZE after | sample |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
| $REBALANCE_KEYS | $REBALANCE_REPLICAS | $(calc "$load_secs" %.1f) | $(calc "$t_members - $t0" %.2f) | $(calc "$t_owns - $t0" %.2f) | $(calc "$t_done - $t0" %.2f) | $(calc "$t_done - $t_members" %.2f) | $moved | $(calc "$REBALANCE_KEYS * $slots4 / 16384" %.0f) | $rate | $size_after | $VERIFY_KEYS ok |
EOF
