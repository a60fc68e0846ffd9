"""A real HTTP server on loopback that receives webhooks the way a partner system should: it
verifies each request with the `standardwebhooks` package, answers 500 to the first
``fail_first`` requests of each webhook-id (or all while ``status`` says so), and accepts a
webhook-id once (a redelivery of an accepted id is answered 200 and not counted again)."""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0
    status: int | None = None  # force this status for every request
    delay: float = 0.0  # seconds before answering
    redirect_to: str = ""  # answer 302 Location: this
    gzip_body: bool = False  # answer with a gzip-compressed body whatever was asked
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)  # webhook-id → times accepted (must be 1)
    tries: dict[str, int] = field(default_factory=dict)
    arrived: list[str] = field(default_factory=list)  # webhook-ids as requests arrive (before any delay)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        verified = False
        if self.secret:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        msg_id = headers.get("webhook-id", "")
        with self.lock:
            self.requests.append(Received(msg_id, headers, body, verified))
            if self.redirect_to:
                return 302
            if self.status is not None:
                return self.status
            if self.secret and not verified:
                return 401
            self.tries[msg_id] = self.tries.get(msg_id, 0) + 1
            if self.tries[msg_id] <= self.fail_first:
                return 500
            if msg_id not in self.accepted:
                self.accepted[msg_id] = 1
            return 200


def start_receiver(**options) -> Receiver:
    receiver = Receiver(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                receiver.arrived.append(headers.get("webhook-id", ""))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.answer(headers, body)
            self.send_response(status)
            if status == 302:
                self.send_header("Location", receiver.redirect_to)
            payload = b"ok" if status == 200 else b"nope " * 400  # > 1 KB: the log keeps 1 KB
            if receiver.gzip_body:
                payload = gzip.compress(payload)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except OSError:
                pass  # the sender went away (a killed worker)

        def log_message(self, *args):
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    if receiver.server is not None:
        receiver.server.shutdown()
        receiver.server.server_close()
