"""https deliveries connect to the address that was checked, yet speak TLS to the URL's host:
SNI and the Host header carry the name and the certificate is verified for it (a certificate
for another name is refused). A local TLS server with a throw-away CA stands in for the
partner; DNS is simulated."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from exchange.services import webhooks as hooks
from huiliu import outbound


def _cert(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    seen: dict = {}

    def start(cert_name: str):
        cert_path, key_path = _cert(tmp_path, cert_name)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length") or 0))
                seen["host"] = self.headers.get("host")
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)

        def sni(sock, server_name, _ctx):
            seen["sni"] = server_name

        context.sni_callback = sni
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        seen["server"] = server
        return server.server_address[1], cert_path

    yield start, seen
    if "server" in seen:
        seen["server"].shutdown()


def test_https_goes_to_the_checked_address_with_the_urls_name(tls_server, settings, monkeypatch):
    start, seen = tls_server
    port, ca = start("hooks.partner.test")
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    monkeypatch.setattr(outbound, "resolve", lambda host, p: ["127.0.0.1"])
    monkeypatch.setattr(hooks.certifi, "where", lambda: str(ca))
    target = hooks.url_check(f"https://hooks.partner.test:{port}/in")
    outcome = hooks._post(target, b"{}", {"content-type": "application/json"})
    assert outcome.status_code == 204, outcome.error
    assert seen["sni"] == "hooks.partner.test" and seen["host"] == f"hooks.partner.test:{port}"


def test_a_certificate_for_another_name_is_refused(tls_server, settings, monkeypatch):
    start, seen = tls_server
    port, ca = start("someone-else.test")
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    monkeypatch.setattr(outbound, "resolve", lambda host, p: ["127.0.0.1"])
    monkeypatch.setattr(hooks.certifi, "where", lambda: str(ca))
    outcome = hooks._post(hooks.url_check(f"https://hooks.partner.test:{port}/in"), b"{}", {})
    assert outcome.status_code is None and not outcome.succeeded and "TLS" in outcome.error


def test_localhost_falls_back_to_the_next_checked_address(settings, monkeypatch):
    from tests.support.webhook_receiver import start_receiver, stop_receiver

    receiver = start_receiver()
    try:
        settings.WEBHOOK_ALLOW_LOOPBACK = True
        port = receiver.server.server_address[1]
        monkeypatch.setattr(outbound, "resolve", lambda host, p: ["127.0.0.2", "127.0.0.1"])  # nothing on .2
        outcome = hooks._post(hooks.url_check(f"http://localhost:{port}/hooks"), b"{}", {})
        assert outcome.status_code == 200, outcome.error
        assert receiver.requests[0].headers["host"] == f"localhost:{port}"
    finally:
        stop_receiver(receiver)
