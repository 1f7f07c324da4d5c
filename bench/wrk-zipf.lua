-- wrk script: each request GETs a path from PATHS (file with one URL path a line) drawn from a Zipf(s)
-- distribution: the path of popularity rank r is asked with probability proportional to 1 / r^s.
-- Same input and result line as ../shared/tools/wrk-random.lua, which it replaces in run.sh's *-zipf scenarios.
--
--   ZIPF_S            exponent s (default 0.9; 0 is uniform); a wrk argument after "--" overrides it
--   ZIPF_SEED         seed of the popularity order (default 42)
--   ZIPF_STREAM_SEED  seed of the request stream (thread k uses seed + k); unset: a new stream each run
--
-- Popularity order: PATHS shuffled by Fisher-Yates driven by the Park-Miller generator
-- (x = x * 48271 mod 2^31 - 1, exact in doubles), so every thread, every run and every server sees the
-- same ranks; cache/src/test/java/io/edge/cache/content/ZipfHitRatio.java shuffles the same way, so its
-- hit ratios are for this very order. Per request: one math.random() and a binary search of a
-- precomputed cumulative table (about 18 steps for 300 000 paths).
local floor = math.floor
local paths, cdf = {}, {}
local n, total = 0, 0

local threads = 0
setup = function(thread)       -- main state: number the threads for their stream seeds
  threads = threads + 1
  thread:set("zipf_thread", threads)
end

init = function(args)
  local file = os.getenv("PATHS")
  if not file then return end
  for line in io.lines(file) do n = n + 1; paths[n] = line end
  local s = tonumber((args and args[1]) or os.getenv("ZIPF_S") or "0.9")
  assert(s and s >= 0, "ZIPF_S: expected a number >= 0")
  local m = 2147483647
  local x = (tonumber(os.getenv("ZIPF_SEED") or "42") or 42) % m
  if x == 0 then x = 1 end
  for i = n, 2, -1 do
    x = (x * 48271) % m
    local j = x % i + 1
    paths[i], paths[j] = paths[j], paths[i]
  end
  for r = 1, n do total = total + r ^ -s; cdf[r] = total end
  local stream = tonumber(os.getenv("ZIPF_STREAM_SEED") or "")
  if stream then
    math.randomseed(stream + (zipf_thread or 0))
  else
    math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  end
end

request = function()
  if n == 0 then return wrk.format("GET") end
  local u = math.random() * total
  local lo, hi = 1, n           -- the first rank whose cumulative weight exceeds u
  while lo < hi do
    local mid = floor((lo + hi) / 2)
    if cdf[mid] > u then hi = mid else lo = mid + 1 end
  end
  return wrk.format("GET", paths[lo])
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT req=%d errors_status=%d errors_connect=%d errors_read=%d errors_timeout=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f bytes=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.bytes))
end
