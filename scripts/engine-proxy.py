#!/usr/bin/env python3
"""engine-proxy.py - count Docker Engine API requests.

Listens on a unix socket, forwards every connection to the real Engine
socket, and counts the HTTP requests that pass through (one per request
line).  Used by scripts/bench to show how many Engine calls cara and
docker-compose make for the same work, and by tests.

    engine-proxy.py LISTEN_SOCK ENGINE_SOCK COUNT_FILE [--cut-events S]

The count is written to COUNT_FILE after every request.  Bytes are
forwarded as they arrive, so a streamed answer (GET /events, a pull's
progress) reaches the client as promptly as from the Engine itself; such
a request counts once however long it streams.

--cut-events S, for tests of a lost event stream: a connection that asks
for GET /events is cut S seconds after the request (0: answered 503 at
once, the Engine never asked).
"""
import os
import re
import socket
import sys
import threading

listen_path, engine_path, count_path = sys.argv[1:4]
cut_events = None
if len(sys.argv) > 5 and sys.argv[4] == "--cut-events":
    cut_events = float(sys.argv[5])
lock = threading.Lock()
count = 0
REQ = re.compile(rb"(GET|POST|PUT|DELETE|HEAD) /[^ ]* HTTP/1\.[01]\r\n")
EVENTS = re.compile(rb"(?:^|\r\n)GET (?:/v[0-9.]+)?/events[?/ ]")
REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           b"Content-Length: 45\r\nConnection: close\r\n\r\n"
           b'{"message":"events refused by engine-proxy"}\n')


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def requests(window, old):
    """Request lines in window that end past its first old bytes (the
    tail of the data before).  A request line starts a chunk (a client
    sends the next request once it has read the answer: no pipelining)
    or follows a CRLF; after a request's body it is at the chunk's start,
    which is not the window's start."""
    n = 0
    for m in REQ.finditer(window):
        a = m.start()
        if m.end() > old and (a == 0 or a == old or window[a - 2:a] == b"\r\n"):
            n += 1
    return n


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
                n = requests(window, len(tail))
                if cut_events is not None and EVENTS.search(window):
                    if cut_events <= 0:
                        src.sendall(REFUSED)
                        break
                    threading.Timer(cut_events, close_both, (src, dst)).start()
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
        close_both(src, dst)


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
