# lib.sh: helpers the bench scripts share; sourced, not run.

log() { printf '%s\n' "$*" >&2; }

# die MESSAGE: log the message, prefixed with the script's name, and exit.
die() {
	log "$(basename "$0"): $*"
	exit 1
}

# calc EXPR FORMAT: evaluate an awk expression, "n/a" if it mentions n/a.
calc() {
	if [[ $1 == *n/a* ]]; then
		echo n/a
	else
		awk "BEGIN { printf \"$2\", $1 }"
	fi
}

# median [FORMAT]: median of the numbers on stdin (printf FORMAT, %.0f by
# default), "n/a" if there are none.
median() {
	sort -g | awk -v f="${1:-%.0f}" '{ v[NR] = $1 }
		END {
			if (NR == 0) print "n/a"
			else if (NR % 2) printf f "\n", v[(NR + 1) / 2]
			else printf f "\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}
