"""localstripe (PyPI) as the tests' Stripe: started as a real process on a free loopback port.

``python -m tests.support.localstripe <port>`` serves localstripe's own aiohttp application on
127.0.0.1 only (its command line binds every interface, which nothing here may do), from an
empty store. ``start()`` runs that in a subprocess and waits for it; ``register_webhook`` uses
localstripe's ``POST /_config/webhooks/<id>`` so it signs and sends events to the app.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalStripe:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def js_url(self) -> str:
        return f"{self.url}/js.stripe.com/v3/"

    def register_webhook(self, *, url: str, secret: str, events: list[str], name: str = "huiliu") -> None:
        data = urlencode([("url", url), ("secret", secret), *(("events[]", e) for e in events)]).encode()
        request = urllib.request.Request(f"{self.url}/_config/webhooks/{name}", data=data, method="POST")
        urllib.request.urlopen(request, timeout=5).read()

    def flush(self) -> None:
        """Forget every object (between tests)."""
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/_config/data", method="DELETE"), timeout=5).read()


def start() -> LocalStripe:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.localstripe", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return LocalStripe(process, port)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("localstripe exited at start") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("localstripe did not start")


def stop(server: LocalStripe) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.process.kill()


def _serve(port: int) -> None:
    import logging

    from aiohttp import web
    from localstripe.server import app

    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
