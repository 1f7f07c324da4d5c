#!/usr/bin/env bash
# bench/soak.sh [SECONDS] — edge under a long mixed load and misbehaving clients at once, watched for what grows.
#
# The example deployment's two kinds of traffic in one edge: the 300 000-file thumbnail tree (bench/run.sh's) as the
# default site, and the bundled example site (examples/site/public, its PHP front controller through a php-fpm edge
# spawns with 4 workers) as php.local. For SECONDS (300): wrk with bench/lib/soak-mix.lua (64 connections) and
# bench/lib/soak_abuse.py (malformed heads, resets before the answer, half-sent bodies, clients that leave PHP
# requests, pipelined bursts) at once. Every SAMPLE seconds a SOAK_SAMPLE line: edge's descriptors, resident memory,
# threads, old generation in use, php-fpm processes. Then IDLE seconds without load (idle cached descriptors close
# after 60 s), a full collection, and SOAK_END: the same figures, the status page, and every WARN or ERROR line edge
# logged (the intended "runs PHP as root" left out). What to look for: the old generation after the full collection
# and the descriptors after the idle time back near SOAK_START's; no ERROR; every abusive connection answered.
# RELOAD_EVERY=N (seconds; 0, the default, none) also reloads the configuration under that load every N seconds
# (SIGHUP), each reload changing php-fpm's worker count (4, 5, 4...) and the content cache's size, so that a php-fpm
# is started and the old one drained and stopped, and a cache built anew, each time: SOAK_RELOAD counts the reloads
# applied and the generations retired, and the php-fpm processes left at the end must be one master and its workers.
# SOAK_LOAD's status_5xx must be 0 with or without reloads (the mix asks for no error of the server's).
#   EDGE_JAR [edge-core/target/edge-core.jar, built if missing], EDGE_JAVA_OPTS, PORT [18300], OUT [/tmp/edge-soak],
#   SAMPLE [30], IDLE [70], CONNS [64], RELOAD_EVERY [0].
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
LOAD_S=${1:-300}
TREE=${BENCH_DIR:-/var/tmp/edge-bench}/thumbs-${NFILES:-300000}
PORT=${PORT:-18300} OUT=${OUT:-/tmp/edge-soak} SAMPLE=${SAMPLE:-30} IDLE=${IDLE:-70} CONNS=${CONNS:-64}
RELOAD_EVERY=${RELOAD_EVERY:-0}
[ -f "$TREE/paths.txt" ] || { echo "no tree at $TREE: run bench/run.sh hot-thumbs edge once" >&2; exit 2; }
command -v php-fpm8.2 > /dev/null || { echo "php-fpm8.2 missing: run bin/setup" >&2; exit 2; }
command -v wrk > /dev/null || { echo "wrk missing: bench/run.sh installs it" >&2; exit 2; }
mkdir -p "$OUT"

edge_pid=
cleanup() { if [ -n "$edge_pid" ]; then kill "$edge_pid" 2> /dev/null; wait "$edge_pid" 2> /dev/null; fi; true; }
trap cleanup EXIT

jar=${EDGE_JAR:-$REPO/edge-core/target/edge-core.jar}
[ -f "$jar" ] || (cd "$REPO" && mvn -B -q -DskipTests package)
write_conf() {   # write_conf PHP_WORKERS CONTENT_CACHE_MIB
  cat > "$OUT/edge.conf.new" << CONF
edge {
  server { listen = ["127.0.0.1:$PORT"], access-log = off, run-dir = "$OUT/run" }
  sites = [
    { server-names = ["_"], default = true, root = "$TREE/tree", locations = [{ match = "/", expires = 30 d }] }
    { server-names = ["php.local"], root = "$REPO/examples/site/public", index = ["index.html", "index.php"]
      locations = [{ match = "/", fastcgi = php, front-controller = "/index.php", cache = true }
                   { match = "= /edge-status", status = true }] }
  ]
  fastcgi.backends.php { spawn { enabled = true, workers = $1 }, queue { max-waiters = 1000, timeout = 10 s } }
  cache.content.max-bytes = $2 MiB
}
CONF
  mv "$OUT/edge.conf.new" "$OUT/edge.conf"
}
write_conf 4 256
mapfile -t jvm < <(grep -v -e '^#' -e '^$' "$REPO/bin/jvm.options")
java "${jvm[@]}" ${EDGE_JAVA_OPTS:-} -jar "$jar" -c "$OUT/edge.conf" > "$OUT/edge.out" 2>&1 < /dev/null &
edge_pid=$!
hello() { curl -sf -o /dev/null -H 'Host: php.local' "http://127.0.0.1:$PORT/hello"; }
for _ in $(seq 300); do hello && break; sleep 0.2; done
hello || { echo "edge did not start: see $OUT/edge.out" >&2; exit 1; }

figures() {
  echo "fds=$(ls "/proc/$edge_pid/fd" | wc -l)" \
    "rss_mb=$(awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$edge_pid/status")" \
    "threads=$(ls "/proc/$edge_pid/task" | wc -l)" \
    "old_gen_mb=$(jstat -gc "$edge_pid" | awk 'NR == 2 { printf "%.1f", $8 / 1024 }')" \
    "php_fpm=$(pgrep -c php-fpm || true)"
}
jcmd "$edge_pid" GC.run > /dev/null
echo "SOAK_START $(figures)"

PATHS=$TREE/paths.txt wrk -t1 -c"$CONNS" -d"${LOAD_S}s" --timeout 10s -s "$HERE/lib/soak-mix.lua" \
  "http://127.0.0.1:$PORT" > "$OUT/wrk.out" 2>&1 &
load=$!
python3 "$HERE/lib/soak_abuse.py" "$PORT" "$TREE/paths.txt" "$LOAD_S" > "$OUT/abuse.out" 2>&1 &
abuse=$!
reloader=
if [ "$RELOAD_EVERY" -gt 0 ]; then
  (for ((r = 1; r * RELOAD_EVERY < LOAD_S; r++)); do
     sleep "$RELOAD_EVERY"
     write_conf $((4 + r % 2)) $((256 - 64 * (r % 2)))
     kill -HUP "$edge_pid"
   done) &
  reloader=$!
fi
for ((t = SAMPLE; t <= LOAD_S; t += SAMPLE)); do
  sleep "$SAMPLE"
  echo "SOAK_SAMPLE t=${t}s $(figures)"
done
wait "$load" "$abuse" $reloader || true
if [ "$RELOAD_EVERY" -gt 0 ]; then
  echo "SOAK_RELOAD applied=$(grep -c 'reload: configuration .* applied' "$OUT/edge.out")" \
    "retired=$(grep -c 'reload: generation .* retired' "$OUT/edge.out")" \
    "refused=$(grep -c 'reload refused\|reload failed' "$OUT/edge.out")"
fi
grep -h '^SOAK_' "$OUT/wrk.out" "$OUT/abuse.out" || { echo "the load or the abuse failed: see $OUT" >&2; exit 1; }
sleep "$IDLE"
jcmd "$edge_pid" GC.run > /dev/null
echo "SOAK_END after ${IDLE} s idle and a full collection: $(figures)"
curl -s -H 'Host: php.local' "http://127.0.0.1:$PORT/edge-status" | sed 's/^/SOAK_STATUS /'
grep -E ' (WARN|ERROR) ' "$OUT/edge.out" | grep -v 'runs PHP as root' | sed 's/^/SOAK_LOG /' || echo "SOAK_LOG none"
