#!/bin/bash
# make bench: every benchmark, each printing its ratios.
set -eu
dir=$(dirname "$0")
export BENCH_OUT=$(mktemp -d)
trap 'rm -rf "$BENCH_OUT"' EXIT
"$dir/rss-watch.sh"
echo
"$dir/rss-watch-maps.sh"
echo
"$dir/leak-classify.sh"
echo
"$dir/leak-classify-fleet.sh"
echo
"$dir/accuracy.sh"
echo
"$dir/gw-read.sh"
echo
"$dir/gw-scan.sh"
echo
"$dir/gw-sim.sh"
echo
"$dir/gw-publish.sh"
echo
"$dir/dbus-watch.sh"
echo
"$dir/heap-watch.sh"

echo
"$dir/h5-dump.sh"
