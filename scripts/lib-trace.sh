# shellcheck shell=bash
# Sourced by the guest benchmarks that read tracefs.

# trace_stat_sum FIELDS FILE...: the sum of the fields FIELDS (an awk
# alternation of names, e.g. 'entries|overrun') over tracefs per-CPU stats
# files (/sys/kernel/tracing/per_cpu/cpuN/stats); 0 if none has them.
trace_stat_sum() {
	local fields=$1
	shift
	awk -F: -v re="^($fields):" '$0 ~ re {s += $2} END {print s + 0}' "$@"
}
