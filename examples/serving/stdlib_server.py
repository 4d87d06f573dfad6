"""A feature service on the standard library alone.

    python examples/serving/stdlib_server.py --artifact model.fpa --port 8080

``GET /healthz`` answers the artifact's fingerprint; ``POST /transform`` takes a JSON object
(one record) or a list of them and answers ``{"features": ..., "feature_names": [...]}``.

The settings that matter for latency: HTTP/1.1 keep-alive (no connection per request),
TCP_NODELAY (a small response leaves at once instead of waiting on Nagle's algorithm), a
listen backlog that absorbs bursts, one thread per connection (``ThreadingHTTPServer``;
fastprep releases nothing it does not need: a record runs on the calling thread) and no
access log on the request path.
"""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import answer, arguments, load


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # the listen backlog

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()


def handler(model):
    names = [str(n) for n in model.get_feature_names_out()]
    health = json.dumps({"status": "ok", "fingerprint": model.fingerprint}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args) -> None:
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._send(200, health)
            else:
                self._send(404, json.dumps({"error": f"no route {self.path}"}).encode())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path != "/transform":
                self._send(404, json.dumps({"error": f"no route {self.path}"}).encode())
                return
            self._send(*answer(model, names, body))

    return Handler


def main() -> None:
    args = arguments("Serve a fitted fastprep pipeline over HTTP (standard library only).")
    model = load(args)
    server = Server((args.host, args.port), handler(model))
    print(f"serving {args.artifact} on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
