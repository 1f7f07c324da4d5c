#!/usr/bin/env python3
"""slow_readers.py HOST PORT PATH N: N clients that each ask for PATH and never read the answer.

Each socket's receive buffer is made small (4 KiB) before it connects, so the server's writes stall almost at once,
as they do for a client on a slow or stalled network. The sockets stay open until this process is killed (SIGTERM);
it prints how many requests it sent, to stderr.
"""
import signal
import socket
import sys
import time

host, port, path, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
held = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode("ascii"))
    held.append(s)
print(f"slow_readers: {len(held)} requests for {path} sent, never read", file=sys.stderr)
while True:
    time.sleep(3600)
