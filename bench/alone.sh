#!/usr/bin/env bash
# bench/alone.sh SERVER [WARM_S] [MEAS_S] [perf|trace|stat] — hot-thumbs against one server alone, for profiling:
# req/s, p99 and the server's CPU per request (user and system, from /proc/PID/stat), with `perf record -g`
# (perf), `perf trace -s` (trace, 5 s) or `perf stat` of page faults and context switches (stat, printed per
# request) of the server during the measurement. SERVER: edge or nginx, or a yardstick: floor (bench/lib/NettyFloor.java:
# the least a Netty server on edge's JVM options does for the request: open, fstat, read, close and one write on the
# event loop, nothing else) or floor-mem (the same server answering a body from memory: HTTP over Netty alone);
# floor-raw and floor-raw-mem: the same two without Netty's HTTP codec (the request's bytes scanned, a head of bytes);
# floor-uring: floor on Netty's io_uring transport instead of epoll (its jars fetched with mvn into OUT/uring-lib).
#
# What bench/run.sh hot-thumbs measures, cut down to what an A/B of two builds needs: run it for each build in
# turn (EDGE_JAR=path/to/edge-core.jar of a worktree), alternate, and compare medians. The tree is bench/run.sh's
# (BENCH_DIR/thumbs-NFILES: run `bench/run.sh hot-thumbs edge` once to make it) and must be in the page cache.
#   EDGE_JAR [edge-core/target/edge-core.jar of this repository, built if missing], EDGE_JAVA_OPTS (JVM options,
#   last), EDGE_EXTRA (a line added to edge's config), PORT [18091], CONNS [64], OUT [/tmp/edge-alone] (configs,
#   logs, perf.data, trace.txt).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
TOOLS=${TOOLS:-$(cd "$REPO/.." && pwd)/shared/tools}
[ -d "$TOOLS" ] || TOOLS=/work/shared/tools
SERVER=${1:?usage: bench/alone.sh edge|nginx|floor|floor-mem|floor-raw|floor-raw-mem|floor-uring [WARM_S] [MEAS_S] [perf|trace|stat]}
WARM=${2:-30} MEAS=${3:-15} PROFILE=${4:-}
TREE=${BENCH_DIR:-/var/tmp/edge-bench}/thumbs-${NFILES:-300000}
PORT=${PORT:-18091} CONNS=${CONNS:-64} OUT=${OUT:-/tmp/edge-alone}
[ -f "$TREE/paths.txt" ] || { echo "no tree at $TREE: run bench/run.sh hot-thumbs edge once" >&2; exit 2; }
mkdir -p "$OUT/tmp"

pids=()
cleanup() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

case "$SERVER" in
  edge)
    jar=${EDGE_JAR:-$REPO/edge-core/target/edge-core.jar}
    [ -f "$jar" ] || (cd "$REPO" && mvn -B -q -DskipTests package)
    cat > "$OUT/edge.conf" <<EOF
edge {
  server { listen = ["127.0.0.1:$PORT"], access-log = off }
  ${EDGE_EXTRA:-}
  sites = [{ server-names = ["_"], default = true, root = "$TREE/tree", locations = [{ match = "/" }] }]
}
EOF
    # with bin/edge's JVM options
    mapfile -t jvm < <(grep -v -e '^#' -e '^$' "$REPO/bin/jvm.options")
    java "${jvm[@]}" ${EDGE_JAVA_OPTS:-} -jar "$jar" \
      -c "$OUT/edge.conf" > "$OUT/edge.out" 2>&1 < /dev/null &
    pids=($!)
    ;;
  nginx)
    cat > "$OUT/nginx.conf" <<EOF
user root; daemon off; master_process on; worker_processes 2; worker_rlimit_nofile 20000;
pid $OUT/nginx.pid; error_log $OUT/nginx-error.log warn;
events { worker_connections 8192; use epoll; multi_accept on; }
http { types { image/jpeg jpg jpeg; } default_type application/octet-stream; access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 100000000; keepalive_timeout 75s;
  client_body_temp_path $OUT/tmp; proxy_temp_path $OUT/tmp; fastcgi_temp_path $OUT/tmp;
  uwsgi_temp_path $OUT/tmp; scgi_temp_path $OUT/tmp;
  server { listen 127.0.0.1:$PORT default_server; server_name _; root $TREE/tree; } }
EOF
    nginx -c "$OUT/nginx.conf" > "$OUT/nginx.out" 2>&1 < /dev/null &
    pids=($!)
    ;;
  floor|floor-mem|floor-raw|floor-raw-mem|floor-uring)
    lib=$(dirname "${EDGE_JAR:-$REPO/edge-core/target/edge-core.jar}")/lib
    [ -d "$lib" ] || (cd "$REPO" && mvn -B -q -DskipTests package)
    mapfile -t jvm < <(grep -v -e '^#' -e '^$' "$REPO/bin/jvm.options")
    mode=${SERVER#floor-}; [ "$SERVER" = floor ] || [ "$SERVER" = floor-uring ] && mode=file
    cp="$lib/*"
    if [ "$SERVER" = floor-uring ]; then
      # Netty's io_uring transport, of the Netty edge ships with; edge does not ship it
      netty=$(basename "$(ls "$lib"/netty-transport-[0-9]*.jar)" .jar); netty=${netty#netty-transport-}
      for a in netty-transport-classes-io_uring:$netty netty-transport-native-io_uring:$netty:jar:linux-x86_64; do
        mvn -B -q dependency:copy -Dartifact="io.netty:$a" -DoutputDirectory="$OUT/uring-lib" > "$OUT/mvn.out" 2>&1 \
          || { cat "$OUT/mvn.out" >&2; echo "could not fetch io.netty:$a" >&2; exit 1; }
      done
      cp="$cp:$OUT/uring-lib/*"
      export FLOOR_TRANSPORT=io_uring
    fi
    java "${jvm[@]}" ${EDGE_JAVA_OPTS:-} -cp "$cp" "$HERE/lib/NettyFloor.java" "$PORT" "$TREE/tree" "$mode" \
      > "$OUT/floor.out" 2>&1 < /dev/null &
    pids=($!)
    ;;
  *) echo "server: $SERVER (expected: edge, nginx, floor, floor-mem, floor-raw, floor-raw-mem or floor-uring)" >&2
     exit 2 ;;
esac

first=$(head -1 "$TREE/paths.txt")
for _ in $(seq 600); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/$first" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/$first" || { echo "$SERVER did not start: see $OUT" >&2; exit 1; }
# the server's processes: edge's JVM, or nginx's master and workers
procs="$( (pgrep -P "${pids[0]}" || true) | tr "\n" " ")${pids[0]}"
cpu() { local u=0 s=0 a b; for p in $procs; do read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat"); u=$((u + a)); s=$((s + b)); done; echo "$u $s"; }

export PATHS=$TREE/paths.txt
wrk -t1 -c"$CONNS" -d"${WARM}s" -s "$TOOLS/wrk-random.lua" "http://127.0.0.1:$PORT" > /dev/null
read -r u0 s0 < <(cpu)
prof=
case "$PROFILE" in
  perf)
    [ "$SERVER" != nginx ] && jcmd "${pids[0]}" Compiler.perfmap > /dev/null 2>&1 || true
    perf record -F 999 -g -p "$(echo $procs | tr ' ' ',')" -o "$OUT/perf.data" -- sleep "$MEAS" > /dev/null 2>&1 &
    prof=$! ;;
  trace) perf trace -s -p "$(echo $procs | tr ' ' ',')" -o "$OUT/trace.txt" -- sleep 5 & prof=$! ;;
  stat)
    perf stat -x, -e page-faults,context-switches -p "$(echo $procs | tr ' ' ',')" -o "$OUT/stat.txt" \
      -- sleep "$MEAS" > /dev/null 2>&1 &
    prof=$! ;;
  '') ;;
  *) echo "profile: $PROFILE (expected: perf, trace or stat)" >&2; exit 2 ;;
esac
wrk -t1 -c"$CONNS" -d"${MEAS}s" --latency -s "$TOOLS/wrk-random.lua" "http://127.0.0.1:$PORT" > "$OUT/wrk.out"
read -r u1 s1 < <(cpu)
if [ -n "$prof" ]; then
  wait "$prof" || true
  [ "$PROFILE" = perf ] && [ "$SERVER" != nginx ] && { jcmd "${pids[0]}" Compiler.perfmap > /dev/null 2>&1 || true; }
fi
hz=$(getconf CLK_TCK)
awk -v s="$SERVER" -v u=$((u1 - u0)) -v sy=$((s1 - s0)) -v m="$MEAS" -v hz="$hz" '
  /Requests\/sec/ { rps = $2 } $1 == "99%" { p99 = $2 } /Non-2xx|Socket errors/ { err = err " " $0 }
  END { printf "ALONE server=%s rps=%s p99=%s user_us_per_req=%.1f sys_us_per_req=%.1f%s\n",
        s, rps, p99, u * 1e6 / hz / (rps * m), sy * 1e6 / hz / (rps * m), err }' "$OUT/wrk.out"
if [ "$PROFILE" = stat ]; then
  awk -F, -v r="$(awk '/Requests\/sec/ { print $2 }' "$OUT/wrk.out")" -v m="$MEAS" \
    '$3 ~ /page-faults|context-switches/ { printf "STAT %s_per_req=%.3f\n", $3, $1 / (r * m) }' "$OUT/stat.txt"
elif [ -n "$PROFILE" ]; then echo "profile in $OUT (perf report -i $OUT/perf.data, or $OUT/trace.txt)"; fi
