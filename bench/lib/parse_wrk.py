#!/usr/bin/env python3
"""Reads wrk output (with lib/wrk-bench.lua) on stdin, prints the key=value part of a RESULT line.
ok = answers with status < 400; errors = status >= 400 + connect/read/write errors + timeouts; rps = ok / duration."""
import sys

lines = [l.split() for l in sys.stdin if l.startswith("WRK ")]
if not lines:
    print("rps=0 p50_ms=0 p99_ms=0 ok=0 errors=1 wrk_failed=1")
    sys.exit()
d = dict(kv.split("=", 1) for kv in lines[-1][1:])
req, st = int(d["req"]), int(d["errors_status"])
sock = sum(int(d[k]) for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout"))
ok = req - st
dur = float(d["dur_s"]) or 1.0
print(f"rps={ok / dur:.1f} p50_ms={d['p50_ms']} p99_ms={d['p99_ms']} ok={ok} errors={st + sock} "
      f"errors_status={st} errors_socket={sock} mb_s={int(d['bytes']) / dur / 1e6:.1f}")
