# shellcheck shell=bash
# Shared helpers for deploy/bin/*: sourced, never executed.
# Every path is derived from this file's location, so a clone anywhere (/tmp/x, a CI
# checkout) works without edits.

DEPLOY_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
REPO_ROOT=$(cd -- "$DEPLOY_DIR/.." && pwd -P)
# Git-ignored (.gitignore: .state/): everything the local servers write lives here.
STATE_DIR=${THREADLOG_STATE_DIR:-$REPO_ROOT/.state}
PROG=$(basename -- "$0")
export DEPLOY_DIR REPO_ROOT STATE_DIR

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

# Microseconds since the epoch without forking (bash >= 5 has EPOCHREALTIME).
now_us() { printf '%s' "${EPOCHREALTIME/./}"; }
# Seconds elapsed since a now_us value, with one decimal: "12.3".
elapsed_since() {
	local d=$((($(now_us) - $1) / 100000))
	printf '%d.%d' $((d / 10)) $((d % 10))
}

# True for a live process; a zombie (exited, not yet reaped by whoever adopted it) is dead.
pid_alive() {
	[[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# Prints the pid stored in a pid file, or nothing.
read_pid() {
	local pid=""
	if [[ -f $1 ]]; then read -r pid <"$1" || true; fi
	[[ $pid =~ ^[0-9]+$ ]] && printf '%s' "$pid"
	return 0
}

# The NUL-separated command line of a process, flattened to one line.
proc_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# True when something accepts TCP connections on host:port (bash's /dev/tcp, no nc needed).
port_open() {
	# shellcheck disable=SC2016 # $1/$2 expand in the inner bash, on purpose
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Prints the major version of a java binary (8 for 1.8.x, 17 for 17.0.x).
java_major() {
	local v
	v=$("$1" -version 2>&1 | sed -n 's/.* version "\([0-9][0-9.]*\).*/\1/p' | head -n1)
	v=${v#1.}
	printf '%s' "${v%%.*}"
}

# Prints a java >= 17 (Kafka 4.x needs it): $JAVA_HOME, then PATH, then /usr/lib/jvm.
find_java() {
	local c major
	local -a candidates=()
	[[ -n ${JAVA_HOME:-} ]] && candidates+=("$JAVA_HOME/bin/java")
	c=$(command -v java 2>/dev/null) && candidates+=("$c")
	candidates+=(/usr/lib/jvm/*/bin/java)
	for c in "${candidates[@]}"; do
		[[ -x $c ]] || continue
		major=$(java_major "$c")
		if [[ $major =~ ^[0-9]+$ ]] && ((major >= 17)); then
			printf '%s' "$c"
			return 0
		fi
	done
	return 1
}

# Prints the directory holding initdb, pg_ctl and postgres, preferring pg_config's answer,
# then the highest /usr/lib/postgresql/N/bin (Debian's layout), then PATH.
find_pg_bindir() {
	local d
	local -a candidates=()
	d=$(pg_config --bindir 2>/dev/null) && candidates+=("$d")
	while IFS= read -r d; do
		candidates+=("$d")
	done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -t/ -k5,5Vr)
	d=$(command -v pg_ctl 2>/dev/null) && candidates+=("$(dirname -- "$d")")
	for d in "${candidates[@]}"; do
		if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]]; then
			printf '%s' "$d"
			return 0
		fi
	done
	return 1
}

# Prints the last lines of a log file, framed, to stderr.
show_log_tail() {
	local file=$1 n=${2:-30}
	[[ -f $file ]] || return 0
	printf -- '----- last %s lines of %s -----\n' "$n" "$file" >&2
	tail -n "$n" -- "$file" >&2 || true
	printf -- '-----\n' >&2
}
