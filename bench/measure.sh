# Sourced by the bench scripts. measure LABEL CMD...: runs CMD 5 times (its output discarded;
# a failure prints its standard error and stops the script), prints the median wall time and
# the peak RSS of the runs, and leaves the median in "$tmp/last". Needs $tmp.
measure() {
  local label=$1
  shift
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" -o "$tmp/t.$i" "$@" > /dev/null 2> "$tmp/err" || { cat "$tmp/err"; exit 1; }
  done
  cat "$tmp"/t.[1-5] | sort -n | awk -v l="$label" -v out="$tmp/last" \
    '{t[NR]=$1; if ($2>m) m=$2} END {printf "%-52s %6.2f s  %5.0f MB\n", l, t[3], m/1024; print t[3] > out}'
}
