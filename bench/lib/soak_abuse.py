"""bench/soak.sh's abuse, beside the load: connections that misbehave, one after another, for SECONDS.

Malformed heads (each must get its 4xx/5xx answer), requests abandoned with a reset before the answer, half-sent
bodies, PHP requests whose client leaves, and pipelined bursts read to the end. Prints the answers' status lines
counted, and the client-side failures (a timeout here means the server stopped answering).
usage: soak_abuse.py PORT PATHS SECONDS
"""
import random
import socket
import struct
import sys
import time

port, paths_file, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
paths = [line.strip() for line in open(paths_file)][:5000]
malformed = [
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST /hello HTTP/1.1\r\nHost: php.local\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
]
counts = {}
end = time.time() + seconds
while time.time() < end:
    kind = random.randrange(5)
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(15)
    try:
        if kind == 0:
            s.sendall(random.choice(malformed))
            line = s.recv(200).split(b"\r\n")[0].decode("latin-1")
            counts[line] = counts.get(line, 0) + 1
        elif kind == 1:
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % random.choice(paths)).encode())
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
        elif kind == 2:
            s.sendall(b"POST /form HTTP/1.1\r\nHost: php.local\r\nContent-Length: 100000\r\n\r\n" + b"y" * 30000)
        elif kind == 3:
            s.sendall(b"GET /hello?gone HTTP/1.1\r\nHost: php.local\r\n\r\n")
        else:
            burst = b"".join(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % random.choice(paths)).encode() for _ in range(20))
            s.sendall(burst + b"GET /hello HTTP/1.1\r\nHost: php.local\r\nConnection: close\r\n\r\n")
            while s.recv(65536):
                pass
    except OSError as e:
        counts[type(e).__name__] = counts.get(type(e).__name__, 0) + 1
    finally:
        s.close()
print("SOAK_ABUSE " + " ".join("%s=%d" % (k.replace(" ", "_"), v) for k, v in sorted(counts.items())))
