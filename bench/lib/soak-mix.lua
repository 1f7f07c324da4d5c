-- bench/soak.sh's load: a mix of what the example deployment serves, by share of requests.
--   70 % random thumbnails (PATHS), 3 % of them as Range requests, 3 % missing files, 2 % "../" paths (400),
--   2 % conditional GETs of a page; 20 % PHP through the front controller (Host: php.local): pages with a query,
--   a cacheable answer (/cached), and 20 KB POSTs.
-- No HEAD requests: wrk reads a HEAD answer's Content-Length of body that never comes, and the connection stalls.
local paths = {}; local n = 0
local body = string.rep("x", 20000)
local php = { Host = "php.local" }
init = function(args)
  for line in io.lines(os.getenv("PATHS")) do n = n + 1; paths[n] = line end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end
request = function()
  local r = math.random(100)
  if r <= 67 then return wrk.format("GET", paths[math.random(n)])
  elseif r <= 70 then return wrk.format("GET", paths[math.random(n)], { Range = "bytes=100-2000" })
  elseif r <= 73 then return wrk.format("GET", "/00/00/missing" .. math.random(1000) .. ".jpg")
  elseif r <= 75 then return wrk.format("GET", "/../../etc/passwd")
  elseif r <= 77 then return wrk.format("GET", "/index.html", { Host = "php.local", ["If-None-Match"] = "\"x\"" })
  elseif r <= 87 then return wrk.format("GET", "/hello?name=" .. math.random(1000), php)
  elseif r <= 92 then return wrk.format("GET", "/cached", php)
  else return wrk.format("POST", "/form", { Host = "php.local", ["Content-Type"] = "application/octet-stream" }, body) end
end
-- Answers of 500 and over, counted in each thread's own state (a global, so done() can read it).
local threads = {}
setup = function(thread) threads[#threads + 1] = thread end
status_5xx = 0
response = function(status, headers, body)
  if status >= 500 then status_5xx = status_5xx + 1 end
end
done = function(summary, latency, requests)
  local s5 = 0
  for _, thread in ipairs(threads) do s5 = s5 + thread:get("status_5xx") end
  io.write(string.format("SOAK_LOAD requests=%d non_2xx_3xx=%d status_5xx=%d socket_errors=%d rps=%.1f p99_ms=%.2f\n",
    summary.requests, summary.errors.status, s5,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000))
end
