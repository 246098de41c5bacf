#!/bin/bash
# Long soak of the long-running tools: rss-watch samples a restarting,
# leaking service every 5 ms with --pss --children for SOAK_SECONDS (default
# 600); a second rss-watch records the first one's memory, and
# leak-classify must call that steady.  make soak; not part of make check.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$ROOT/build/bin:$ROOT/build/helpers:$PATH"
S=${SOAK_SECONDS:-600}
tmp=$(mktemp -d)
memhog restart --every 5 --rate 200 &
svc=$!
trap 'kill $svc $soaker 2>/dev/null; rm -rf "$tmp"' EXIT
rss-watch -N memhog-worker --pss --children -i 5ms -d "${S}s" >/dev/null &
soaker=$!
sleep 2
rss-watch -p $soaker -i 1s >"$tmp/self.jsonl" || true
echo "soak: rss-watch watched a restarting leaker every 5 ms for $S s; its own RSS:"
jq -s -r 'map(.rss_kb | numbers) | "  min \(min) KB, max \(max) KB over \(length) samples"' "$tmp/self.jsonl"
leak-classify -f rss_kb "$tmp/self.jsonl"
