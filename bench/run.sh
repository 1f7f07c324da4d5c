#!/usr/bin/env bash
# bench/run.sh SCENARIO [SERVER...] — load benchmarks of edge against nginx and lighttpd, same machine, same run.
#
# Scenarios (one function scenario_<name> each; add one by writing a function):
#   hot-thumbs          random GETs over a 300 000-file tree, page cache warm
#   cold-thumbs         the same tree on the machine's own disk, caches dropped before each measurement
#   cold-thumbs-slowfs  the tree through ../shared/tools/slowfs: 4000 us seek, 4 spindles, 150 MB/s (+ device limit)
#   cold-thumbs-ssdfs   the tree through slowfs: 100 us, 64 spindles, 500 MB/s (+ device limit)
#   mixed-slowfs        cold-thumbs-slowfs's load and, at the same time, HOT_CONNS clients of one cached file:
#                       the hot clients' latency (hot_p50_ms, hot_p99_ms) shows whether a server's disk waits
#                       hold up requests that need no disk
#   hot-thumbs-zipf, cold-thumbs-slowfs-zipf   the same with Zipf(ZIPF_S) popularity (bench/wrk-zipf.lua)
#   cache-hit-ratio     no server: the content cache against a plain LRU of the same bytes on a Zipf stream
#                       over the tree (ZipfHitRatio in the cache module's tests), HITRATIO lines
#   hot-thumbs-tls      hot-thumbs over https, each server ending TLS itself (a self-signed ECDSA P-256 certificate)
#   big-file            one 700 MB file, 1 and 2 concurrent downloads, cold and hot: MB/s and CPU s/GB
#   php-saturate        php-fpm (started by this script) with 4 workers, a 100 ms script, listen.backlog 8, 64 clients:
#                       successes, failures, goodput = share of the pool's 40 req/s capacity
#   php-hello           php-fpm with 8 workers and a one-line script, 64 clients: req/s and p99
#   php-slow-readers    php-hello's load while SLOW_READERS (8, one per worker) clients each ask for an 8 MiB answer
#                       (big.php) and never read it: whether slow clients hold the PHP workers (a server that
#                       does not buffer answers gets no hello through: its rps falls to 0, its errors climb)
#   php-reload          php-hello's load while each server reloads its configuration every RELOAD_EVERY s (edge:
#                       SIGHUP, the FastCGI group's queue timeout changed each time, so every reload builds a new
#                       backend pool; nginx: SIGHUP, `nginx -s reload`; lighttpd: SIGUSR1, its graceful restart):
#                       errors and req/s while configurations change; reloads= counts the signals sent
#   static-gzip         random GETs with Accept-Encoding: gzip over NCSS [2000] stylesheets (8-40 KB of generated
#                       CSS), page cache warm, each server compressing at zlib level 1 (edge gzip.enabled, which keeps
#                       the compressed form in its content cache; nginx gzip on, which compresses every time; lighttpd
#                       mod_deflate with its deflate.cache-dir, compressed files kept on disk)
#   php-gzip            php-hello's pool and load on a 30 KB HTML page (page.php, a table of 300 rows) asked for with
#                       Accept-Encoding: gzip, each server compressing at zlib level 1 (edge gzip.enabled, nginx
#                       gzip on, lighttpd mod_deflate): req/s, p99, and body_bytes= (the compressed page's size)
# Servers (all by default, one after another, never two loaded at once; big-file starts them all first, then
# they take turns download row by download row):
#   edge edge-nocache edge-io_uring edge-threads edge-linux-aio-sendfile edge-sendfile nginx nginx-aio lighttpd
#   (edge-nocache: edge with edge.cache.content.enabled = false)
#   edge-nolowat, on request only: edge with server.tcp-notsent-lowat = 0 (the kernel's unlimited default, as nginx).
#   nginx-one, nginx-reuseport, on request only: nginx with multi_accept off (each wake-up of a worker takes one
#   connection), and with listen ... reuseport (the kernel spreads connections over the workers). The default
#   `nginx` runs multi_accept on, which lets the first worker to wake take all of wrk's 64 connections at once:
#   one worker serves them all and the other idles (BENCHMARKS.md, seventieth session).
#   edge-mem, on request only (name it): edge with the content cache sized for the whole tree (EDGE_MEM_BYTES
#   [3 GiB]) and trusted for 60 s (as nginx-aio's open_file_cache_valid): how an operator of an immutable,
#   hash-named thumbnail tree would run it. Not for cold-* scenarios: it keeps what the warm-up read.
#
# Output: one line per server (the median over REPEAT runs, by rps):
#   RESULT scenario=S server=X rps=… p50_ms=… p99_ms=… ok=… errors=… cpu_s=… … (the thumbnail scenarios add
#   cpu_user_us_per_req= and cpu_sys_us_per_req=: the server's CPU per answered request, user and system)
# then   RATIO scenario=S edge/nginx=… edge/nginx-aio=… edge/lighttpd=… edge/edge-nocache=… (those that ran)
# and, for mixed-slowfs, HOT scenario=S <server>_hot_p99_ms=<every run's> …
# rps counts only successful answers (status < 400) per second; errors = status >= 400 + socket errors + timeouts.
#
# Environment knobs (defaults in brackets):
#   DURATION [15] s per measurement, WARMUP [60] s of discarded load first (JIT: after 15 s C2 still took 13 % of edge's CPU), THREADS [1] wrk
#   threads, CONNS [64] clients, REPEAT [1] runs per server, interleaved (median reported), NFILES [300000],
#   BENCH_DIR [/var/tmp/edge-bench] cache of trees, builds and mounts, PORT_BASE [18080],
#   EDGE_START_TIMEOUT [900] s (bin/edge may build the distribution first), DEVICE_THREADS [64],
#   HOT_CONNS [4] (mixed-slowfs), RELOAD_EVERY [1] s (php-reload), SLOW_READERS [8] (php-slow-readers),
#   BIG_MB [700], BIG_ROUNDS [3] downloads per client in the hot big-file runs, BIG_WARM [5] downloads before
#   a server's big-file rows, the first of them cold (discarded: a long-running server has seen both its paths, its
#   JIT compiled them and its first reads set up what they need), KEEP_TMP=1 keeps configs/logs,
#   ZIPF_S [0.9] and ZIPF_SEED [42] (popularity order) for the *-zipf scenarios and cache-hit-ratio, ZIPF_STREAM_SEED
#   [unset: a new request stream each run],
#   HITRATIO_REQUESTS [2000000], HITRATIO_MIB [16,64,256] byte bounds of cache-hit-ratio.
#
# Fairness notes: the machine has 2 cores. nginx runs worker_processes 2 (one per core, as edge runs two event
# loops); lighttpd 1.4 is single-process by design (server.max-worker is discouraged) and runs with a near-stock
# config. All servers: access log off, keep-alive requests unbounded (so wrk never reconnects), 127.0.0.1 only,
# running as root so that the FUSE mount and the root-owned tree are readable without extra setup.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
TOOLS=${TOOLS:-$(cd "$REPO/.." && pwd)/shared/tools}
[ -d "$TOOLS" ] || TOOLS=/work/shared/tools
BENCH_DIR=${BENCH_DIR:-/var/tmp/edge-bench}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-60}
THREADS=${THREADS:-1}
CONNS=${CONNS:-64}
REPEAT=${REPEAT:-1}
RELOAD_EVERY=${RELOAD_EVERY:-1}
RELOADING=${RELOADING:-0}
SLOW_READERS=${SLOW_READERS:-8}
SLOWING=${SLOWING:-0}
PHP_GZIP=${PHP_GZIP:-0}   # php-gzip: the servers compress the page (set by the scenario)
NFILES=${NFILES:-300000}
NCSS=${NCSS:-2000}
PORT_BASE=${PORT_BASE:-18080}
EDGE_START_TIMEOUT=${EDGE_START_TIMEOUT:-900}
DEVICE_THREADS=${DEVICE_THREADS:-64}
HOT_CONNS=${HOT_CONNS:-4}
BIG_MB=${BIG_MB:-700}
BIG_ROUNDS=${BIG_ROUNDS:-3}
BIG_WARM=${BIG_WARM:-5}
EDGE_MEM_BYTES=${EDGE_MEM_BYTES:-3 GiB}
export ZIPF_S=${ZIPF_S:-0.9} ZIPF_SEED=${ZIPF_SEED:-42}   # read by wrk-zipf.lua and passed to ZipfHitRatio
HITRATIO_REQUESTS=${HITRATIO_REQUESTS:-2000000}
HITRATIO_MIB=${HITRATIO_MIB:-16,64,256}
WRK_LUA=$TOOLS/wrk-random.lua   # the request mix; the *-zipf scenarios switch it to wrk-zipf.lua
TLS=0             # the *-tls scenarios: every server ends TLS itself (TLS_CERT, TLS_KEY), clients speak https
SCHEME=http
ALL_SERVERS=(edge edge-nocache edge-io_uring edge-threads edge-linux-aio-sendfile edge-sendfile nginx nginx-aio lighttpd)
KNOWN_SERVERS=("${ALL_SERVERS[@]}" edge-mem edge-nolowat nginx-one nginx-reuseport)   # these four: only when named
CLK_TCK=$(getconf CLK_TCK)

log() { echo "# $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- dependencies
APT_UPDATED=0
apt_install() {   # apt_install PKG... — at most one apt-get update per run; no prompts, no stdin
  command -v apt-get >/dev/null || die "missing $*, and no apt-get to install it"
  if [ "$APT_UPDATED" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >&2
}
need_cmd() {      # need_cmd COMMAND PKG [ALTERNATIVE_PKG]
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] && return 0
  apt_install "$1" || { [ $# -gt 1 ] && apt_install "$2"; } || die "cannot install $cmd"
}
ensure_base_deps() {
  need_cmd wrk wrk; need_cmd python3 python3; need_cmd curl curl; need_cmd ss iproute2
  local s; for s in "${SERVERS[@]}"; do
    case $s in
      nginx*) need_cmd nginx nginx-light nginx ;;
      lighttpd) need_cmd lighttpd lighttpd
                [ "$TLS" = 1 ] && [ ! -e /usr/lib/lighttpd/mod_openssl.so ] && apt_install lighttpd-mod-openssl ;;
    esac
  done
  [ "$TLS" = 1 ] && need_cmd openssl openssl
  return 0
}
PATH=$PATH:/usr/sbin:/sbin

# ---------------------------------------------------------------- workloads
# tree_ensure N -> sets TREE (the root) and PATHS (paths.txt); generated once, reused (mktree writes paths.txt last)
tree_ensure() {
  local n=$1 dir="$BENCH_DIR/thumbs-$1"
  TREE=$dir/tree PATHS=$dir/paths.txt
  if [ -s "$PATHS" ] && [ "$(wc -l <"$PATHS")" -eq "$n" ]; then return 0; fi
  log "generating $n files under $TREE (once; ~25 s per 300k)"
  rm -rf "$dir"; mkdir -p "$dir"
  python3 "$TOOLS/mktree.py" "$TREE" "$n" 42 >&2
}
warm_tree() {     # read every file once so the page cache holds the tree
  log "warming the page cache: $1"
  find "$1" -type f -print0 | xargs -0 -P2 -n 2000 cat >/dev/null
}
drop_caches() {
  sync
  echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || die "cannot write /proc/sys/vm/drop_caches (needs root, no read-only /proc/sys)"
}
randread_bin() {  # builds bench/lib/randread.c into BENCH_DIR once
  local bin=$BENCH_DIR/bin/randread src=$HERE/lib/randread.c
  if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
    need_cmd gcc gcc; mkdir -p "$BENCH_DIR/bin"; gcc -O2 -pthread -o "$bin" "$src"
  fi
  echo "$bin"
}

# ---------------------------------------------------------------- slowfs
SLOWFS_MNT= SLOWFS_PID=
slowfs_bin() {    # shared/ is read-only in CI: copy the sources and build in BENCH_DIR
  local b=$BENCH_DIR/slowfs-build
  if [ ! -x "$b/slowfs" ] || [ "$TOOLS/slowfs/slowfs.c" -nt "$b/slowfs" ]; then
    { pkg-config --exists fuse3 2>/dev/null && command -v fusermount3 >/dev/null && command -v gcc >/dev/null; } ||
      apt_install libfuse3-dev fuse3 pkg-config gcc
    rm -rf "$b"; mkdir -p "$b"; cp "$TOOLS/slowfs/slowfs.c" "$TOOLS/slowfs/build.sh" "$b/"
    sh "$b/build.sh" >&2
  fi
  echo "$b/slowfs"
}
slowfs_mount() {  # slowfs_mount SRC LATENCY_US SPINDLES MB_S -> SLOWFS_MNT
  local bin; bin=$(slowfs_bin)
  [ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true
  [ -e /dev/fuse ] || die "no /dev/fuse: slowfs scenarios need FUSE"
  SLOWFS_MNT=$BENCH_DIR/mnt-slowfs-$2-$3
  mkdir -p "$SLOWFS_MNT"
  mountpoint -q "$SLOWFS_MNT" && { fusermount3 -u "$SLOWFS_MNT" || umount -l "$SLOWFS_MNT"; }
  "$bin" "$1" "$SLOWFS_MNT" "$2" "$3" "$4" >"$WORK/slowfs.log" 2>&1 &
  SLOWFS_PID=$!
  local i; for i in $(seq 100); do mountpoint -q "$SLOWFS_MNT" && return 0; sleep 0.1; done
  die "slowfs did not mount: $(cat "$WORK/slowfs.log")"
}
slowfs_umount() {
  [ -n "$SLOWFS_MNT" ] || return 0
  mountpoint -q "$SLOWFS_MNT" && { fusermount3 -u "$SLOWFS_MNT" 2>/dev/null || umount -l "$SLOWFS_MNT" 2>/dev/null || true; }
  [ -n "$SLOWFS_PID" ] && { kill "$SLOWFS_PID" 2>/dev/null || true; wait "$SLOWFS_PID" 2>/dev/null || true; }
  SLOWFS_MNT= SLOWFS_PID=
}

# ---------------------------------------------------------------- servers
# server_start NAME ROOT -> PORT, SID (session of all its processes), SERVER_DIR (config + logs)
port_of() {
  local i=0 s; for s in "${KNOWN_SERVERS[@]}"; do [ "$s" = "$1" ] && { echo $((PORT_BASE + i)); return; }; i=$((i + 1)); done
  die "unknown server $1 (known: ${KNOWN_SERVERS[*]})"
}
conf_nginx() {    # conf_nginx DIR PORT ROOT aio(0|1) [ACCEPT: multi (multi_accept on), one (off), reuseport]
  local extra=""
  if [ "$4" = 1 ]; then
    # nginx's answer to blocking disk reads: reads (and sendfile) offloaded to the default thread pool
    # (32 threads), open descriptors cached so the hot path does not re-open
    extra="aio threads;
        open_file_cache max=10000 inactive=60s;   # per worker, well under worker_rlimit_nofile
        open_file_cache_valid 60s;
        open_file_cache_errors on;"
  fi
  cat >"$1/nginx.conf" <<EOF
user root;
daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile 20000;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 8192; use epoll; multi_accept $( [ "${5:-multi}" = multi ] && echo on || echo off ); }
http {
    types { image/jpeg jpg jpeg; text/html html; text/css css; application/octet-stream bin; }
$( [ "${STATIC_GZIP:-0}" = 1 ] && echo "    gzip on; gzip_comp_level 1; gzip_min_length 256; gzip_vary on; gzip_types text/css;" )
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path $1/tmp; proxy_temp_path $1/tmp; fastcgi_temp_path $1/tmp;
    uwsgi_temp_path $1/tmp; scgi_temp_path $1/tmp;
    server {
        listen 127.0.0.1:$2$( [ "$TLS" = 1 ] && echo " ssl" )$( [ "${5:-multi}" = reuseport ] && echo " reuseport" ) default_server;
        server_name _;$( [ "$TLS" = 1 ] && printf '%s' "
        ssl_certificate $TLS_CERT;
        ssl_certificate_key $TLS_KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;" )
        root $3;
        $extra
        location / { }
    }
}
EOF
  mkdir -p "$1/tmp"
}
conf_lighttpd() { # conf_lighttpd DIR PORT ROOT — near-stock: lighttpd as Debian ships it, minus logs
  cat >"$1/lighttpd.conf" <<EOF
server.modules = ( "mod_staticfile" )
server.document-root = "$3"
server.bind = "127.0.0.1"
server.port = $2
server.pid-file = "$1/lighttpd.pid"
server.errorlog = "$1/error.log"
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 75
server.network-backend = "sendfile"
server.event-handler = "linux-sysepoll"
mimetype.assign = ( ".jpg" => "image/jpeg", ".html" => "text/html", ".css" => "text/css",
                    ".bin" => "application/octet-stream" )
EOF
  if [ "${STATIC_GZIP:-0}" = 1 ]; then   # lighttpd's own way: each file compressed once, kept in a cache directory
    mkdir -p "$1/deflate-cache"
    cat >>"$1/lighttpd.conf" <<EOF
server.modules += ( "mod_deflate" )
deflate.mimetypes = ( "text/css" )
deflate.allowed-encodings = ( "gzip" )
deflate.compression-level = 1
deflate.cache-dir = "$1/deflate-cache"
EOF
  fi
  if [ "$TLS" = 1 ]; then   # Debian's lighttpd-mod-openssl
    cat >>"$1/lighttpd.conf" <<EOF
server.modules += ( "mod_openssl" )
ssl.engine = "enable"
ssl.pemfile = "$TLS_CERT"
ssl.privkey = "$TLS_KEY"
EOF
  fi
  [ -n "${LIGHTTPD_MAX_FDS:-}" ] && echo "server.max-fds = $LIGHTTPD_MAX_FDS" >>"$1/lighttpd.conf"
  return 0
}
conf_edge() {     # conf_edge DIR PORT ROOT ENGINE [LINE] — the shape edge's conf module reads (edge.static.engine)
  cat >"$1/edge.conf" <<EOF
edge {
  server { listen = ["127.0.0.1:$2$( [ "$TLS" = 1 ] && echo " ssl" )"], access-log = off }
$( [ "$TLS" = 1 ] && echo "  site-defaults.tls { certificate = \"$TLS_CERT\", key = \"$TLS_KEY\" }" )
  static { engine = $4 }
  ${5:-}
  sites = [{ server-names = ["_"], default = true, root = "$3", locations = [{ match = "/" }] }]
}
EOF
}
server_available() {  # edge needs bin/edge from the server work; the others are installed on demand
  case $1 in edge*) [ -x "$REPO/bin/edge" ] ;; *) return 0 ;; esac
}
SID= PORT= SERVER_DIR=
server_start() {  # server_start NAME ROOT: a static configuration
  local name=$1 root=$2
  server_prepare "$name" || return 1
  case $name in
    nginx)     conf_nginx "$SERVER_DIR" "$PORT" "$root" 0 ;;
    nginx-aio) conf_nginx "$SERVER_DIR" "$PORT" "$root" 1 ;;
    nginx-one) conf_nginx "$SERVER_DIR" "$PORT" "$root" 0 one ;;
    nginx-reuseport) conf_nginx "$SERVER_DIR" "$PORT" "$root" 0 reuseport ;;
    lighttpd)  conf_lighttpd "$SERVER_DIR" "$PORT" "$root" ;;
    edge)      conf_edge "$SERVER_DIR" "$PORT" "$root" auto \
                 "$( [ "${STATIC_GZIP:-0}" = 1 ] && echo "location-defaults.gzip.enabled = true" )" ;;
    edge-nocache) conf_edge "$SERVER_DIR" "$PORT" "$root" auto "cache.content.enabled = false" ;;
    edge-nolowat) conf_edge "$SERVER_DIR" "$PORT" "$root" auto "server.tcp-notsent-lowat = 0" ;;
    edge-mem)  conf_edge "$SERVER_DIR" "$PORT" "$root" auto \
                 "cache.content { max-bytes = $EDGE_MEM_BYTES, revalidate = 60 s }" ;;
    edge-*)    conf_edge "$SERVER_DIR" "$PORT" "$root" "${name#edge-}" ;;
  esac
  server_launch "$name"
}
server_prepare() {  # server_prepare NAME: sets PORT and a fresh SERVER_DIR
  PORT=$(port_of "$1") || return 1; SERVER_DIR=$WORK/$1; rm -rf "$SERVER_DIR"; mkdir -p "$SERVER_DIR"
  ss -Hltn "sport = :$PORT" | grep -q . && die "port $PORT (for $1) is already taken"
  return 0
}
server_launch() { # server_launch NAME [URL_PATH]: runs the server on the config in SERVER_DIR until it answers
  local name=$1 probe=${2:-/} timeout=30
  local -a cmd
  case $name in
    nginx*)          cmd=(nginx -p "$SERVER_DIR" -c "$SERVER_DIR/nginx.conf") ;;
    lighttpd)        cmd=(lighttpd -D -f "$SERVER_DIR/lighttpd.conf") ;;
    edge*)           cmd=("$REPO/bin/edge" -c "$SERVER_DIR/edge.conf"); timeout=$EDGE_START_TIMEOUT ;;
  esac
  # its own session and process group: CPU is summed over the session, stop signals the whole group
  ( cd "$SERVER_DIR" && exec setsid "${cmd[@]}" ) >"$SERVER_DIR/stdout.log" 2>"$SERVER_DIR/stderr.log" </dev/null &
  SID=$!
  local t0=$SECONDS
  until curl -sk -o /dev/null "$SCHEME://127.0.0.1:$PORT$probe"; do
    if ! kill -0 "$SID" 2>/dev/null; then
      log "$name exited at start-up; its stderr:"; tail -n 30 "$SERVER_DIR/stderr.log" >&2; SID=; return 1
    fi
    [ $((SECONDS - t0)) -lt "$timeout" ] || { log "$name did not listen on $PORT within ${timeout}s"; server_stop; return 1; }
    sleep 0.2
  done
}
server_stop() {
  [ -n "$SID" ] || return 0
  kill -TERM -- "-$SID" 2>/dev/null || true
  local i; for i in $(seq 50); do kill -0 -- "-$SID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$SID" 2>/dev/null || true
  wait "$SID" 2>/dev/null || true
  SID=
}
LIVE_SIDS=()
stop_live() {     # stops every server started to run beside others (LIVE_SIDS)
  local sid; for sid in "${LIVE_SIDS[@]}"; do SID=$sid server_stop; done
  LIVE_SIDS=()
}
cpu_split() {     # "USER SYSTEM": utime and stime (+ reaped children's) of every process in session $SID, ticks
  local f line rest user=0 system=0
  for f in /proc/[0-9]*/stat; do
    line=$(<"$f") 2>/dev/null || continue
    rest=${line##*) }; set -- $rest   # $1 = field 3 (state): session = $4, utime stime cutime cstime = $12..$15
    if [ "${4:-}" = "$SID" ]; then user=$((user + ${12} + ${14})); system=$((system + ${13} + ${15})); fi
  done 2>/dev/null
  echo "$user $system"
}
cpu_ticks() {     # utime+stime (+ reaped children) of every process in session $SID
  local user system
  read -r user system < <(cpu_split)
  echo $((user + system))
}
sanity_check() {  # one file through the server must come back 200 with its exact size
  local url=$1 file=$2 got
  got=$(curl -sk -o /dev/null -w '%{http_code} %{size_download}' "$url") || got="curl-failed"
  [ "$got" = "200 $(stat -c %s "$file")" ] || { log "sanity check failed for $url: got '$got', want '200 $(stat -c %s "$file")'"; return 1; }
}

# ---------------------------------------------------------------- measurement
# wrk_run URL SECONDS -> one "key=value ..." line: rps p50_ms p99_ms ok errors req ...
wrk_run() {
  local out
  local -a env_paths=(-u PATHS); [ -n "${PATHS:-}" ] && env_paths=(PATHS="$PATHS")
  local -a header=(); [ -n "${WRK_HEADER:-}" ] && header=(-H "$WRK_HEADER")
  out=$(env "${env_paths[@]}" WRK_RANDOM_LUA="$WRK_LUA" \
        wrk -t"$THREADS" -c"$CONNS" -d"${2}s" --timeout 10s "${header[@]}" -s "$HERE/lib/wrk-bench.lua" "$1" 2>&1) || true
  echo "$out" | python3 "$HERE/lib/parse_wrk.py"
}
# start_warm SERVER SCENARIO ROOT: starts the server, checks one file, runs the warm-up; on failure a failed
# RESULT line goes to $RUNS and it returns 1
start_warm() {
  local name=$1 scen=$2 root=$3 first
  server_start "$name" "$root" || { echo "RESULT scenario=$scen server=$name rps=0 p50_ms=0 p99_ms=0 ok=0 errors=1 failed=start" >>"$RUNS"; return 1; }
  first=$(head -n1 "$PATHS")
  if ! sanity_check "$SCHEME://127.0.0.1:$PORT$first" "$root$first"; then
    echo "RESULT scenario=$scen server=$name rps=0 p50_ms=0 p99_ms=0 ok=0 errors=1 failed=sanity" >>"$RUNS"; server_stop; return 1
  fi
  if [ "$TLS" = 1 ]; then   # what each server settles on with an OpenSSL client (wrk's library too)
    log "$name: $(curl -skv -o /dev/null "$SCHEME://127.0.0.1:$PORT$first" 2>&1 | sed -n 's/.*SSL connection using //p' | head -n1)"
  fi
  if [ "${STATIC_GZIP:-0}" = 1 ]; then   # the file must come compressed, or the run measures something else
    curl -sk -H 'Accept-Encoding: gzip' -D "$SERVER_DIR/first.head" -o "$SERVER_DIR/first.gz" "$SCHEME://127.0.0.1:$PORT$first" || true
    if ! grep -qi '^content-encoding: *gzip' "$SERVER_DIR/first.head" || ! gzip -t "$SERVER_DIR/first.gz" 2>/dev/null; then
      log "$name did not compress $first"
      echo "RESULT scenario=$scen server=$name rps=0 p50_ms=0 p99_ms=0 ok=0 errors=1 failed=not-gzip" >>"$RUNS"; server_stop; return 1
    fi
  fi
  [ "$WARMUP" -gt 0 ] && wrk_run "$SCHEME://127.0.0.1:$PORT" "$WARMUP" >/dev/null
  return 0
}
cpu_seconds() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN{printf "%.2f", t/h}'; }
# measure_thumbs SERVER SCENARIO ROOT COLD(0|1) -> appends a RESULT line to $RUNS
measure_thumbs() {
  local name=$1 scen=$2 root=$3 cold=$4 c0 c1 res
  start_warm "$name" "$scen" "$root" || return 0
  [ "$cold" = 1 ] && drop_caches
  local u0 s0 u1 s1 ok
  read -r u0 s0 < <(cpu_split)
  res=$(wrk_run "$SCHEME://127.0.0.1:$PORT" "$DURATION")
  read -r u1 s1 < <(cpu_split)
  server_stop
  # CPU per answered request, split into user and system time: where a server's cost lies, beside its rate
  ok=$(sed -n 's/.*\bok=\([0-9]*\).*/\1/p' <<<"$res")
  echo "RESULT scenario=$scen server=$name $res cpu_s=$(cpu_seconds $((u1 + s1 - u0 - s0))) $(awk -v u=$((u1 - u0)) \
      -v s=$((s1 - s0)) -v h="$CLK_TCK" -v n="${ok:-0}" \
      'BEGIN{printf "cpu_user_us_per_req=%.1f cpu_sys_us_per_req=%.1f", n ? u * 1e6 / h / n : 0, n ? s * 1e6 / h / n : 0}')" |
    tee -a "$RUNS" | sed 's/^RESULT/RUN/' >&2
}
# measure_mixed SERVER SCENARIO ROOT: the cold load as measure_thumbs, and meanwhile HOT_CONNS more clients ask
# for one file that is cached (fetched just before): their latency (hot_*) is what waiting for the disk costs
# requests that need none. One RESULT line: the cold load's keys, then the hot clients' as hot_<key>.
measure_mixed() {
  local name=$1 scen=$2 root=$3 first c0 c1 res hot hot_pid
  start_warm "$name" "$scen" "$root" || return 0
  first=$(head -n1 "$PATHS"); echo "$first" >"$WORK/hot-path.txt"
  drop_caches
  curl -sk -o /dev/null "$SCHEME://127.0.0.1:$PORT$first" || true   # a dead server shows in the RESULT line
  c0=$(cpu_ticks)
  # wrk refuses fewer connections than threads
  PATHS=$WORK/hot-path.txt CONNS=$HOT_CONNS THREADS=$((THREADS < HOT_CONNS ? THREADS : HOT_CONNS)) wrk_run "$SCHEME://127.0.0.1:$PORT" "$DURATION" >"$WORK/hot.txt" &
  hot_pid=$!
  res=$(wrk_run "$SCHEME://127.0.0.1:$PORT" "$DURATION")
  wait "$hot_pid"   # only it: the server is a child of this shell too
  c1=$(cpu_ticks)
  server_stop
  hot=$(sed -E 's/([a-z0-9_]+)=/hot_\1=/g' "$WORK/hot.txt")
  echo "RESULT scenario=$scen server=$name $res $hot cpu_s=$(cpu_seconds $((c1 - c0)))" | tee -a "$RUNS" | sed 's/^RESULT/RUN/' >&2
}
device_limit() {  # device_limit ROOT -> DEVICE line on stdout (cold, DEVICE_THREADS readers, DURATION s)
  local bin; bin=$(randread_bin)
  drop_caches
  "$bin" "$1" "$PATHS" "$DEVICE_THREADS" "$DURATION" | sed "s/^DEVICE/DEVICE scenario=$SCENARIO/"
}
# each server REPEAT times, interleaved: s1 s2 s3 s1 s2 s3 ...
run_servers() {   # run_servers FUNCTION ARGS... ; FUNCTION is called as FUNCTION SERVER ARGS...
  local fn=$1 r s; shift
  for r in $(seq "$REPEAT"); do
    for s in "${SERVERS[@]}"; do
      if ! server_available "$s"; then
        [ "$r" = 1 ] && log "skipping $s: $REPO/bin/edge does not exist yet"; continue
      fi
      log "run $r/$REPEAT: $SCENARIO on $s"
      "$fn" "$s" "$@"
    done
  done
}
# report: median line (by rps) per server and key (big-file has several per server), then ratios
report() {
  python3 - "$RUNS" "$SCENARIO" "${DEVICE_FPS:-}" "${SERVERS[@]}" <<'EOF'
import sys
runs, scen, device, servers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
groups = {}
for line in open(runs):
    if not line.startswith("RESULT "): continue
    d = dict(kv.split("=", 1) for kv in line.split()[1:])
    key = (d["server"], d.get("mode", ""), d.get("conc", ""))
    groups.setdefault(key, []).append((float(d.get("rps", 0)), line.rstrip()))
best = {}
order = {s: i for i, s in enumerate(servers)}
for key in sorted(groups, key=lambda k: (order.get(k[0], 99), k[1], k[2])):
    vals = sorted(groups[key], key=lambda x: x[0])
    rps, line = vals[(len(vals) - 1) // 2]
    n = len(vals)
    print(line + (f" runs={n} rps_all={','.join('%.1f' % v for v, _ in groups[key])}" if n > 1 else ""))
    metric = "mbps" if key[1] else "rps"
    d = dict(kv.split("=", 1) for kv in line.split()[1:])
    best[key] = float(d.get(metric, rps))
for mode in sorted({k[1:] for k in best}):
    parts = []
    for mine in ("edge", "edge-mem"):
        for other in ("nginx", "nginx-aio", "lighttpd", "edge-nocache", "edge-nolowat"):
            e, o = best.get((mine,) + mode), best.get((other,) + mode)
            if e is not None and o:
                parts.append(f"{mine}/{other}={e / o:.2f}")
    if device and not mode[0] and ("edge", "", "") in best:
        parts.append(f"edge/device={best[('edge', '', '')] / float(device):.2f}")
    if parts:
        extra = (f" mode={mode[0]} conc={mode[1]}" if mode[0] else "")
        print(f"RATIO scenario={scen}{extra} " + " ".join(parts))
# mixed-slowfs: the hot clients' p99 of every run, per server (a tail is too noisy for one median run)
hot = {}
for key, vals in groups.items():
    for _, line in vals:
        d = dict(kv.split("=", 1) for kv in line.split()[1:])
        if "hot_p99_ms" in d:
            hot.setdefault(key[0], []).append("failed" if "hot_wrk_failed" in d else d["hot_p99_ms"])
if hot:
    print(f"HOT scenario={scen} " + " ".join(f"{s}_hot_p99_ms={','.join(hot[s])}"
                                              for s in sorted(hot, key=lambda s: order.get(s, 99))))
EOF
}

# ---------------------------------------------------------------- scenarios
scenario_hot-thumbs() {
  tree_ensure "$NFILES"; warm_tree "$TREE"
  run_servers measure_thumbs hot-thumbs "$TREE" 0
}
# hot-thumbs-tls: hot-thumbs over TLS (every server ending it itself, one self-signed ECDSA P-256 certificate; wrk
# keeps its connections, so this is the record layer's cost per small answer, not handshakes'). sendfile is out
# for all of them: nginx and lighttpd read the file into a buffer to encrypt it, as edge does
scenario_hot-thumbs-tls() {
  tree_ensure "$NFILES"; warm_tree "$TREE"
  run_servers measure_thumbs hot-thumbs-tls "$TREE" 0
}
tls_ensure() {    # tls_ensure -> TLS_CERT, TLS_KEY: a self-signed certificate for 127.0.0.1, made once
  local dir=$BENCH_DIR/tls
  TLS_CERT=$dir/cert.pem TLS_KEY=$dir/key.pem
  [ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ] && return 0
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj /CN=127.0.0.1 \
      -addext subjectAltName=IP:127.0.0.1 -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null || die "openssl could not make $TLS_CERT"
}
# static-gzip: NCSS generated stylesheets (8-40 KB, compressible as real CSS is), asked for gzipped
css_tree_ensure() {  # -> TREE, PATHS
  local n=$NCSS dir="$BENCH_DIR/css-$NCSS"
  TREE=$dir/tree PATHS=$dir/paths.txt
  if [ -s "$PATHS" ] && [ "$(wc -l <"$PATHS")" -eq "$n" ]; then return 0; fi
  log "generating $n stylesheets under $TREE (once)"
  rm -rf "$dir"; mkdir -p "$TREE"
  python3 - "$TREE" "$n" >"$dir/paths.tmp" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
props = ["color", "margin", "padding", "border", "font-size", "line-height", "display", "background", "width"]
values = ["0", "auto", "1px solid #ccc", "#333", "12px", "1.5", "flex", "none", "100%", "0 auto", "#fafafa"]
for i in range(n):
    sub = "%02x" % (i % 256)
    os.makedirs(os.path.join(root, sub), exist_ok=True)
    rules, size, target = [], 0, rnd.randint(8000, 40000)
    while size < target:
        rule = ".c%d-%d { %s }\n" % (i, len(rules), " ".join(
            "%s: %s;" % (rnd.choice(props), rnd.choice(values)) for _ in range(rnd.randint(2, 6))))
        rules.append(rule); size += len(rule)
    name = "%s/s%05d.css" % (sub, i)
    with open(os.path.join(root, name), "w") as f:
        f.write("".join(rules))
    print("/" + name)
PY
  mv "$dir/paths.tmp" "$PATHS"
}
scenario_static-gzip() {
  local s; for s in "${SERVERS[@]}"; do   # Debian packages lighttpd's mod_deflate apart
    [ "$s" = lighttpd ] && [ ! -e /usr/lib/lighttpd/mod_deflate.so ] && apt_install lighttpd-mod-deflate
  done
  css_tree_ensure; warm_tree "$TREE"
  STATIC_GZIP=1 WRK_HEADER='Accept-Encoding: gzip' run_servers measure_thumbs static-gzip "$TREE" 0
}
scenario_cold-thumbs() {
  tree_ensure "$NFILES"
  run_servers measure_thumbs cold-thumbs "$TREE" 1
}
slowfs_scenario() {   # slowfs_scenario NAME LATENCY_US SPINDLES MB_S
  tree_ensure "$NFILES"
  slowfs_mount "$TREE" "$2" "$3" "$4"
  local r; for r in $(seq "$REPEAT"); do device_limit "$SLOWFS_MNT" | tee -a "$RUNS.device" >&2; done
  run_servers measure_thumbs "$1" "$SLOWFS_MNT" 1
  slowfs_umount
}
scenario_cold-thumbs-slowfs() { slowfs_scenario cold-thumbs-slowfs 4000 4 150; }
scenario_cold-thumbs-ssdfs()  { slowfs_scenario cold-thumbs-ssdfs 100 64 500; }
# cold-thumbs-slowfs's load plus HOT_CONNS clients of one cached file (measure_mixed); no device limit
scenario_mixed-slowfs() {
  tree_ensure "$NFILES"
  slowfs_mount "$TREE" 4000 4 150
  run_servers measure_mixed mixed-slowfs "$SLOWFS_MNT"
  slowfs_umount
}

# Zipf(ZIPF_S) popularity over the tree in a fixed order (ZIPF_SEED): a few files take most requests, so the
# content cache (edge vs edge-nocache) and the page cache hold what matters
scenario_hot-thumbs-zipf() {
  WRK_LUA=$HERE/wrk-zipf.lua
  tree_ensure "$NFILES"; warm_tree "$TREE"
  run_servers measure_thumbs hot-thumbs-zipf "$TREE" 0
}
# cold: the page cache is dropped after the warm-up, a content cache inside a server is not
scenario_cold-thumbs-slowfs-zipf() { WRK_LUA=$HERE/wrk-zipf.lua; slowfs_scenario cold-thumbs-slowfs-zipf 4000 4 150; }

# No server: ZipfHitRatio (cache module, test sources) replays HITRATIO_REQUESTS requests of the same Zipf
# stream over the tree's files (sizes only) against the content cache and a plain LRU at each HITRATIO_MIB
scenario_cache-hit-ratio() {
  need_cmd mvn maven; need_cmd java openjdk-17-jdk-headless
  tree_ensure "$NFILES"
  log "building the cache module's tests and classpath (mvn)"
  (cd "$REPO" && mvn -q -B -pl cache -am test-compile &&
    mvn -q -B -pl cache dependency:build-classpath -Dmdep.outputFile="$WORK/cache.classpath") >&2 ||
    die "mvn could not build the cache module's tests"
  local cp="$REPO/cache/target/test-classes:$REPO/cache/target/classes:$(cat "$WORK/cache.classpath")"
  java -Xmx1g -XX:+UseParallelGC -Dslf4j.internal.verbosity=ERROR -cp "$cp" io.edge.cache.content.ZipfHitRatio \
      --root "$TREE" --paths "$PATHS" --requests "$HITRATIO_REQUESTS" --s "$ZIPF_S" --seed "$ZIPF_SEED" --mib "$HITRATIO_MIB" |
    sed "s/^HITRATIO /HITRATIO scenario=cache-hit-ratio /"
}

scenario_big-file() {
  local dir=$BENCH_DIR/bigfile
  BIG=$dir/big.bin
  if [ ! -s "$BIG" ] || [ "$(stat -c %s "$BIG")" -ne $((BIG_MB * 1024 * 1024)) ]; then
    log "writing a ${BIG_MB} MiB file $BIG (once)"; mkdir -p "$dir"
    head -c "$((BIG_MB * 1024 * 1024))" /dev/urandom >"$BIG.tmp" && mv "$BIG.tmp" "$BIG"
  fi
  # Every server is started and warmed first, then they take turns row by row (cold 1, cold 2, hot 1, hot 2, each
  # server once per row, REPEAT times): a download takes seconds and this machine's speed drifts over minutes, so
  # one server's rows measured minutes apart from the other's carried the drift into the ratio (hot 1 at 0.81-0.89
  # block by block, 0.97 taking turns: BENCHMARKS.md, thirty-third session). Only one server is loaded at a time.
  local -A sids=() ports=()
  local -a order=()
  local s r mode conc
  for s in "${SERVERS[@]}"; do
    [ -z "${sids[$s]:-}" ] || continue # named twice: it runs already
    if ! server_available "$s"; then log "skipping $s: $REPO/bin/edge does not exist yet"; continue; fi
    big_start "$s" "$dir" || continue
    sids[$s]=$SID ports[$s]=$PORT; order+=("$s"); LIVE_SIDS+=("$SID"); SID=
  done
  local -a turns
  for r in $(seq "$REPEAT"); do
    turns=("${order[@]}")
    if [ $((r % 2)) = 0 ]; then # every other round in reverse, so no server is always first after a drop_caches
      turns=(); for s in "${order[@]}"; do turns=("$s" "${turns[@]}"); done
    fi
    for mode in cold hot; do
      for conc in 1 2; do
        for s in "${turns[@]}"; do
          log "run $r/$REPEAT: big-file $mode $conc on $s"
          SID=${sids[$s]} PORT=${ports[$s]} measure_big "$s" "$mode" "$conc"
        done
      done
    done
  done
  stop_live
}
# big_start SERVER DIR: starts it, checks the file, BIG_WARM downloads (the first cold); on failure a failed
# RESULT line goes to $RUNS and it returns 1
big_start() {
  local name=$1 dir=$2 w
  server_start "$name" "$dir" || { echo "RESULT scenario=big-file server=$name mode=cold conc=1 mbps=0 rps=0 ok=0 errors=1 failed=start" >>"$RUNS"; return 1; }
  sanity_check "$SCHEME://127.0.0.1:$PORT/big.bin" "$BIG" || { server_stop; echo "RESULT scenario=big-file server=$name mode=cold conc=1 mbps=0 rps=0 ok=0 errors=1 failed=sanity" >>"$RUNS"; return 1; }
  for w in $(seq "$BIG_WARM"); do
    [ "$w" = 1 ] && drop_caches
    curl -sk -o /dev/null "$SCHEME://127.0.0.1:$PORT/big.bin" || true
  done
}
# measure_big SERVER MODE CONC (SID and PORT: the running server's): one row, appended to $RUNS. cold: caches dropped,
# one download per client; hot: the file read into the page cache first, BIG_ROUNDS downloads per client
measure_big() {
  local name=$1 mode=$2 conc=$3 rounds=1 c0 c1 t0 t1 out k pids=()
  [ "$mode" = hot ] && { rounds=$BIG_ROUNDS; cat "$BIG" >/dev/null; }
  [ "$mode" = cold ] && drop_caches
  out=$WORK/big-$name-$mode-$conc.txt; : >"$out"
  c0=$(cpu_ticks); t0=$(date +%s.%N)
  for k in $(seq "$conc"); do
    ( for _ in $(seq "$rounds"); do
        curl -sk -o /dev/null -w '%{http_code} %{size_download} %{time_total}\n' "$SCHEME://127.0.0.1:$PORT/big.bin" || echo "000 0 0"
      done >>"$out.$k" ) &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  t1=$(date +%s.%N); c1=$(cpu_ticks)
  cat "$out".* >"$out"; rm -f "$out".*
  python3 - "$out" "$t0" "$t1" "$((c1 - c0))" "$CLK_TCK" "$name" "$mode" "$conc" "$(stat -c %s "$BIG")" <<'EOF' | tee -a "$RUNS" | sed 's/^RESULT/RUN/' >&2
import sys
f, t0, t1, ticks, hz, name, mode, conc, size = sys.argv[1:]
rows = [l.split() for l in open(f) if l.strip()]
ok = [r for r in rows if r[0] == "200" and int(r[1]) == int(size)]
wall = float(t1) - float(t0); nbytes = sum(int(r[1]) for r in rows)
times = sorted(float(r[2]) * 1000 for r in ok) or [0]
cpu = int(ticks) / int(hz)
print(f"RESULT scenario=big-file server={name} mode={mode} conc={conc} mbps={nbytes / wall / 1e6:.1f} "
      f"rps={len(ok) / wall:.2f} p50_ms={times[(len(times) - 1) // 2]:.0f} p99_ms={times[-1]:.0f} ok={len(ok)} "
      f"errors={len(rows) - len(ok)} cpu_s={cpu:.2f} cpu_s_per_gb={cpu / (nbytes / 1e9) if nbytes else 0:.2f}")
EOF
}

# ---------------------------------------------------------------- FastCGI (php-fpm) scenarios
# Every server gets a fresh php-fpm with the same pool (pm = static), on a Unix socket in its directory.
PHP_FPM=${PHP_FPM:-/usr/sbin/php-fpm8.2}
FPM_SID=
fpm_start() {     # fpm_start DIR CHILDREN BACKLOG -> socket DIR/php.sock
  local dir=$1
  cat >"$dir/php-fpm.conf" <<EOF
[global]
pid = $dir/php-fpm.pid
error_log = $dir/php-fpm.log
daemonize = no
[www]
listen = $dir/php.sock
listen.mode = 0666
listen.backlog = $3
pm = static
pm.max_children = $2
EOF
  ( exec setsid "$PHP_FPM" -R -F -y "$dir/php-fpm.conf" ) >"$dir/php-fpm.out" 2>&1 </dev/null &
  FPM_SID=$!
  local i; for i in $(seq 100); do [ -S "$dir/php.sock" ] && return 0; sleep 0.1; done
  die "php-fpm did not start: $(tail -n 5 "$dir/php-fpm.log" 2>/dev/null)"
}
fpm_stop() {
  [ -n "$FPM_SID" ] || return 0
  kill -QUIT -- "-$FPM_SID" 2>/dev/null || true
  local i; for i in $(seq 50); do kill -0 -- "-$FPM_SID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$FPM_SID" 2>/dev/null || true; wait "$FPM_SID" 2>/dev/null || true; FPM_SID=
}
php_root() {      # the scripts both PHP scenarios run
  PHP_ROOT=$WORK/php-root; mkdir -p "$PHP_ROOT"
  echo '<?php usleep(100000); echo "slept\n";' >"$PHP_ROOT/sleep.php"
  echo '<?php echo "hello\n";' >"$PHP_ROOT/hello.php"
  echo '<?php $s = str_repeat("x", 65536); for ($i = 0; $i < 128; $i++) { echo $s; }' >"$PHP_ROOT/big.php"
  # php-gzip: a page as an application renders it (a table of links and numbers, ~30 KB)
  cat >"$PHP_ROOT/page.php" <<'PHP'
<?php
echo "<!doctype html>\n<html><head><title>Items</title></head><body>\n<table class=\"items\">\n";
for ($i = 0; $i < 300; $i++) {
    printf("<tr><td class=\"n\">%d</td><td><a href=\"/item/%s\">Item %d</a></td><td>%d.%02d</td></tr>\n",
        $i, substr(md5((string) $i), 0, 12), $i, ($i * 37) % 1000, ($i * 7) % 100);
}
echo "</table>\n</body></html>\n";
PHP
}
conf_php() {      # conf_php SERVER DIR PORT SOCKET CHILDREN: each server's FastCGI configuration
  local name=$1 dir=$2 port=$3 sock=$4 children=$5
  case $name in
    nginx) mkdir -p "$dir/tmp"; cat >"$dir/nginx.conf" <<EOF
user root;
daemon off;
worker_processes 2;
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/error.log crit;
events { worker_connections 8192; use epoll; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
    uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
    # nginx at its best: kept-alive FastCGI connections, at most one per worker
    upstream php { server unix:$sock; keepalive $children; }
    server {
        listen 127.0.0.1:$port default_server;
        root $PHP_ROOT;
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_keep_conn on;
            fastcgi_pass php;
        }
$( [ "$PHP_GZIP" = 1 ] && echo "        gzip on; gzip_comp_level 1; gzip_min_length 256; gzip_vary on;" )
    }
}
EOF
      ;;
    lighttpd) cat >"$dir/lighttpd.conf" <<EOF
server.modules = ( "mod_fastcgi" )
server.document-root = "$PHP_ROOT"
server.bind = "127.0.0.1"
server.port = $port
server.pid-file = "$dir/lighttpd.pid"
server.errorlog = "$dir/error.log"
server.max-keep-alive-requests = 1000000
fastcgi.server = ( ".php" => (( "socket" => "$sock", "check-local" => "disable" )) )
EOF
      if [ "$PHP_GZIP" = 1 ]; then cat >>"$dir/lighttpd.conf" <<EOF
server.modules += ( "mod_deflate" )
deflate.mimetypes = ( "text/html" )
deflate.allowed-encodings = ( "gzip" )
deflate.compression-level = 1
EOF
      fi
      ;;
    edge*) cat >"$dir/edge.conf" <<EOF
edge {
  server { listen = ["127.0.0.1:$port"], access-log = off }
  sites = [{ server-names = ["_"], default = true, root = "$PHP_ROOT", locations = [{ match = "~ \\\\.php\$", fastcgi = php }] }]
  fastcgi.backends.php { addresses = ["unix:$sock"], max-connections = $children, queue { max-waiters = 10000, timeout = 30 s },
    keep-alive.enabled = true }
  location-defaults.gzip.enabled = $( [ "$PHP_GZIP" = 1 ] && echo true || echo false )
}
EOF
      ;;
  esac
}
# measure_php SERVER SCENARIO SCRIPT CHILDREN BACKLOG -> a RESULT line (goodput: share of the pool's capacity)
measure_php() {
  local name=$1 scen=$2 script=$3 children=$4 backlog=$5 res c0 c1 saved_paths=${PATHS:-} goodput=""
  server_prepare "$name" || return 0
  fpm_start "$SERVER_DIR" "$children" "$backlog"
  conf_php "$name" "$SERVER_DIR" "$PORT" "$SERVER_DIR/php.sock" "$children"
  if ! server_launch "$name" "/$script"; then
    fpm_stop; echo "RESULT scenario=$scen server=$name rps=0 p50_ms=0 p99_ms=0 ok=0 errors=1 failed=start" >>"$RUNS"; return 0
  fi
  PATHS=
  local slow=
  if [ "$SLOWING" = 1 ]; then   # before the warm-up: by the measurement the big answers have filled what they can
    python3 "$HERE/lib/slow_readers.py" 127.0.0.1 "$PORT" /big.php "$SLOW_READERS" & slow=$!
  fi
  local body_bytes=""
  if [ "$PHP_GZIP" = 1 ]; then   # the page must come compressed, or the run measures something else
    curl -sk -H 'Accept-Encoding: gzip' -D "$SERVER_DIR/page.head" -o "$SERVER_DIR/page.gz" "$SCHEME://127.0.0.1:$PORT/$script" || true
    if ! grep -qi '^content-encoding: *gzip' "$SERVER_DIR/page.head" || ! gzip -t "$SERVER_DIR/page.gz" 2>/dev/null; then
      server_stop; fpm_stop
      echo "RESULT scenario=$scen server=$name rps=0 p50_ms=0 p99_ms=0 ok=0 errors=1 failed=not-gzip" >>"$RUNS"; return 0
    fi
    body_bytes=" body_bytes=$(stat -c %s "$SERVER_DIR/page.gz")"
  fi
  [ "$WARMUP" -gt 0 ] && wrk_run "$SCHEME://127.0.0.1:$PORT/$script" "$WARMUP" >/dev/null
  local reloader= reloads=""
  if [ "$RELOADING" = 1 ]; then
    reload_loop "$name" "$SERVER_DIR" >"$SERVER_DIR/reloads.txt" & reloader=$!
  fi
  c0=$(cpu_ticks)
  res=$(wrk_run "$SCHEME://127.0.0.1:$PORT/$script" "$DURATION")
  c1=$(cpu_ticks)
  if [ -n "$reloader" ]; then
    kill "$reloader" 2>/dev/null || true; wait "$reloader" 2>/dev/null || true
    reloads=" reloads=$(wc -l <"$SERVER_DIR/reloads.txt")"
  fi
  PATHS=$saved_paths
  if [ -n "$slow" ]; then
    kill "$slow" 2>/dev/null || true; wait "$slow" 2>/dev/null || true
  fi
  server_stop; fpm_stop
  if [ "$script" = sleep.php ]; then   # capacity: CHILDREN workers x 10 requests/s each (100 ms script)
    goodput=$(echo "$res" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p' | awk -v c="$children" '{printf " goodput=%.2f", $1 / (c * 10)}')
  fi
  echo "RESULT scenario=$scen server=$name $res$goodput$reloads$body_bytes cpu_s=$(awk -v t=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN{printf "%.2f", t/h}')" | tee -a "$RUNS" | sed 's/^RESULT/RUN/' >&2
}
# reload_loop SERVER DIR: every RELOAD_EVERY s, has the server (session $SID, whose leader is the server itself:
# bin/edge execs java, nginx runs with daemon off, lighttpd with -D) reload its configuration; a line per signal
reload_loop() {
  local name=$1 dir=$2 i=0
  while sleep "$RELOAD_EVERY"; do
    i=$((i + 1))
    case $name in
      edge*)    sed -i "s/timeout = [0-9]* s/timeout = $((30 + i % 2)) s/" "$dir/edge.conf"; kill -HUP "$SID" ;;
      nginx*)   kill -HUP "$SID" ;;
      lighttpd) kill -USR1 "$SID" ;;
    esac
    echo "$i"
  done
}
# php-fpm with 4 workers, a 100 ms script and a backlog of 8: capacity 40 req/s; 64 clients
scenario_php-saturate() { php_root; run_servers measure_php php-saturate sleep.php 4 8; }
# php-fpm with 8 workers and a one-line script (php's default backlog); 64 clients
scenario_php-hello()    { php_root; run_servers measure_php php-hello hello.php 8 511; }
# php-hello while SLOW_READERS clients hold 8 MiB answers they never read (bench/lib/slow_readers.py)
scenario_php-slow-readers() { php_root; SLOWING=1 run_servers measure_php php-slow-readers hello.php 8 511; }
# php-hello's pool and load on a 30 KB page asked for gzipped, every server compressing at level 1
scenario_php-gzip()     {
  local s; for s in "${SERVERS[@]}"; do   # Debian packages lighttpd's mod_deflate apart
    [ "$s" = lighttpd ] && [ ! -e /usr/lib/lighttpd/mod_deflate.so ] && apt_install lighttpd-mod-deflate
  done
  php_root; PHP_GZIP=1 WRK_HEADER='Accept-Encoding: gzip' run_servers measure_php php-gzip page.php 8 511
}
# php-hello while every server reloads its configuration every RELOAD_EVERY s (reload_loop)
scenario_php-reload()   { php_root; RELOADING=1 run_servers measure_php php-reload hello.php 8 511; }

# ---------------------------------------------------------------- main
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2
}
[ $# -ge 1 ] || usage
case $1 in -h|--help) usage ;; esac
SCENARIO=$1; shift
declare -F "scenario_$SCENARIO" >/dev/null || { echo "unknown scenario: $SCENARIO" >&2; usage; }
case $SCENARIO in *-tls) TLS=1 SCHEME=https ;; esac
if [ $# -gt 0 ]; then SERVERS=("$@"); else SERVERS=("${ALL_SERVERS[@]}"); fi
for s in "${SERVERS[@]}"; do port_of "$s" >/dev/null; done
[ "$(id -u)" = 0 ] || log "not root: cold scenarios (drop_caches), nginx 'user root' and slowfs need root"

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edge-bench.XXXXXX")
RUNS=$WORK/runs.txt; : >"$RUNS"
cleanup() {
  local rc=$?
  server_stop || true
  stop_live || true
  fpm_stop || true
  slowfs_umount || true
  if [ "${KEEP_TMP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_base_deps
[ "$TLS" = 1 ] && tls_ensure
log "scenario=$SCENARIO servers=${SERVERS[*]} duration=${DURATION}s warmup=${WARMUP}s wrk -t$THREADS -c$CONNS repeat=$REPEAT"
"scenario_$SCENARIO"
DEVICE_FPS=
if [ -s "$RUNS.device" ]; then   # the median device line; its files/s feeds RATIO edge/device
  DEVICE_LINE=$(python3 "$HERE/lib/median_device.py" "$RUNS.device")
  echo "$DEVICE_LINE"; DEVICE_FPS=$(echo "$DEVICE_LINE" | sed -n 's/.*files_per_s=\([0-9.]*\).*/\1/p')
fi
report
