#!/usr/bin/env python3
"""git-http-server.py - a smart-HTTP git server on loopback for the tests.

    python3 git-http-server.py --root DIR --user NAME --token-file FILE \
        --port-file FILE [--log FILE]

Serves the repositories under DIR with `git http-backend` (CGI) on
127.0.0.1, on a free port that it writes to --port-file once it listens.
Every request must carry HTTP Basic credentials NAME and the token in
FILE (read from a file so that it shows in no process list); any other
request is answered 401 with a WWW-Authenticate challenge.  --log gets
one line per request: method, path, whether credentials were sent and
whether they were accepted, and the status.  The token never goes there.
"""
import argparse
import base64
import hmac
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection and the end of the body is the
    # end of the connection, so CGI output can be streamed as it comes.
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def note(self, sent, accepted, status):
        if self.server.log:
            with open(self.server.log, "a") as f:
                f.write("%s %s auth=%s ok=%s status=%s\n" % (
                    self.command, self.path, "yes" if sent else "no",
                    "yes" if accepted else "no", status))

    def authorized(self):
        """(credentials sent, accepted)"""
        h = self.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return False, False
        try:
            got = base64.b64decode(h[6:].strip(), validate=True)
        except ValueError:
            return True, False
        return True, hmac.compare_digest(got, self.server.expected)

    def deny(self, sent):
        body = b"authentication required\n"
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="cara-test"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.note(sent, False, 401)

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def request_body(self, dst):
        """Copy the request body (Content-Length or chunked) to dst."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if te == "chunked":
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        return
                    dst.write(chunk)
                    left -= len(chunk)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                dst.write(chunk)
                left -= len(chunk)

    def serve(self):
        sent, ok = self.authorized()
        if not ok:
            self.deny(sent)
            return
        url = urlsplit(self.path)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.0",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "REMOTE_USER": self.server.user,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
        }
        if self.headers.get("Content-Length") and \
           "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            env["CONTENT_LENGTH"] = self.headers["Content-Length"]
        for h in ("Content-Encoding", "Git-Protocol"):
            if self.headers.get(h):
                env["HTTP_" + h.upper().replace("-", "_")] = self.headers[h]
        p = subprocess.Popen(["git", "http-backend"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env)

        def feed():
            try:
                self.request_body(p.stdin)
            except (OSError, ValueError):
                pass
            finally:
                try:
                    p.stdin.close()
                except OSError:
                    pass

        t = threading.Thread(target=feed)
        t.start()
        status, headers = 200, []
        while True:
            line = p.stdout.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").rstrip("\r\n").partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        shutil.copyfileobj(p.stdout, self.wfile)
        t.join()
        p.wait()
        self.note(sent, True, status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    a = ap.parse_args()
    with open(a.token_file, "rb") as f:
        token = f.read().rstrip(b"\r\n")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.root = os.path.abspath(a.root)
    srv.user = a.user
    srv.expected = a.user.encode() + b":" + token
    srv.log = a.log
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
