#!/usr/bin/env python3
"""engine-proxy.py - count Docker Engine API requests.

Listens on a unix socket, forwards every connection to the real Engine
socket, and counts the HTTP requests that pass through (one per request
line).  Used by scripts/bench to show how many Engine calls cara and
docker-compose make for the same work.

    engine-proxy.py LISTEN_SOCK ENGINE_SOCK COUNT_FILE
The count is written to COUNT_FILE after every request.
"""
import os
import re
import socket
import sys
import threading

listen_path, engine_path, count_path = sys.argv[1:4]
lock = threading.Lock()
count = 0
REQ = re.compile(rb"(?:^|\r\n)(GET|POST|PUT|DELETE|HEAD) /[^ ]* HTTP/1\.[01]\r\n")


def pump(src, dst, counting):
    global count
    tail = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if counting:
                window = tail + data
                n = len(REQ.findall(window)) - len(REQ.findall(tail))
                tail = window[-256:]
                if n:
                    with lock:
                        count += n
                        with open(count_path, "w") as f:
                            f.write(str(count))
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    engine = socket.socket(socket.AF_UNIX)
    engine.connect(engine_path)
    threading.Thread(target=pump, args=(client, engine, True), daemon=True).start()
    threading.Thread(target=pump, args=(engine, client, False), daemon=True).start()


if os.path.exists(listen_path):
    os.unlink(listen_path)
srv = socket.socket(socket.AF_UNIX)
srv.bind(listen_path)
srv.listen(128)
with open(count_path, "w") as f:
    f.write("0")
while True:
    c, _ = srv.accept()
    serve(c)
