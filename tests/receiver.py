"""A real HTTP receiver on loopback for webhook and media-fetch tests (and the webhook benchmark).

It records every request and answers from a script: a list of statuses used in turn, then `status`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


class Receiver:
    def __init__(self, *, status: int = 200, body: bytes = b"ok", delay: float = 0.0, headers: dict | None = None):
        self.status, self.body, self.delay, self.headers = status, body, delay, dict(headers or {})
        self.script: list[int] = []  # statuses to answer in turn, then `status`
        self.delays: list[float] = []  # seconds to wait before answering, in turn, then `delay`
        self.requests: list[Received] = []
        self.files: dict[str, tuple[bytes, str]] = {}  # path -> (content, content type) for GETs
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.script.pop(0) if receiver.script else receiver.status
                    delay = receiver.delays.pop(0) if receiver.delays else receiver.delay
                if delay:
                    time.sleep(delay)
                content, content_type = receiver.files.get(self.path, (receiver.body, "text/plain"))
                self.send_response(status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                try:
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = _answer  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
