-- Wraps ../shared/tools/wrk-random.lua or bench/wrk-zipf.lua (path in WRK_RANDOM_LUA): same GETs, and a result line
-- that also carries the duration, so run.sh can count only 2xx/3xx answers as ok.
dofile(assert(os.getenv("WRK_RANDOM_LUA"), "WRK_RANDOM_LUA not set"))
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK req=%d errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d dur_s=%.3f p50_ms=%.2f p99_ms=%.2f bytes=%d\n",
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.bytes))
end
