"""docs/deploy/nginx.conf: passes `nginx -t`, serves TLS, redirects plain HTTP, serves widgets like
docs/widgets-nginx.conf (verbatim), hides /metrics, caps request bodies per path and passes the
request id and the client's address to gunicorn."""

from __future__ import annotations

import getpass
import http.client
import os
import re
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.widget_serving import free_port, wait_port

pytestmark = pytest.mark.integration

DOCS = Path(__file__).resolve().parents[2] / "docs"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class _Upstream(BaseHTTPRequestHandler):
    """Stands in for gunicorn: records what nginx sent and answers 200."""

    seen: list[dict] = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "bytes": len(body)})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer  # noqa: N815 - the names http.server calls

    def log_message(self, *args):
        pass


def _filled(folder: Path, *, http_port: int, tls_port: int, app_port: int, media: Path, static: Path) -> Path:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    shutil.copy(DOCS / "deploy" / "proxy.conf", folder / "proxy.conf")
    server = (DOCS / "deploy" / "nginx.conf").read_text()
    for name, value in {
        "@MEDIA_ROOT@": media,
        "@STATIC_ROOT@": static,
        "@APP@": f"127.0.0.1:{app_port}",
        "@LISTEN_HTTP@": f"127.0.0.1:{http_port}",
        "@LISTEN_TLS@": f"127.0.0.1:{tls_port}",
        "@SERVER_NAME@": "127.0.0.1",
        "@ACME_ROOT@": folder / "acme",
        "@TLS_CERT@": cert,
        "@TLS_KEY@": key,
        "@DEPLOY_DIR@": folder,
    }.items():
        server = server.replace(name, str(value))
    assert "@" not in re.sub(r"#.*", "", server), "a placeholder was left unfilled"
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""user {getpass.getuser()};
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {folder}/tmp-body;
    proxy_temp_path {folder}/tmp-proxy;
    fastcgi_temp_path {folder}/tmp-fastcgi;
    uwsgi_temp_path {folder}/tmp-uwsgi;
    scgi_temp_path {folder}/tmp-scgi;
{server}
}}
"""
    )
    return conf


@pytest.fixture
def nginx(tmp_path):
    if not os.path.exists(NGINX):
        pytest.fail("nginx not found: apt-get install nginx-light")
    folder = tmp_path / "nginx"
    folder.mkdir()
    media, static = tmp_path / "media", tmp_path / "static"
    (media / "widgets").mkdir(parents=True)
    (static / "widget").mkdir(parents=True)
    (static / "widget" / "embed.js").write_text("/* the snippet */")
    _Upstream.seen = []
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    ports = {"http_port": free_port(), "tls_port": free_port()}
    conf = _filled(folder, app_port=upstream.server_address[1], media=media, static=static, **ports)
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(folder)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
    wait_port(ports["tls_port"])
    yield ports
    process.terminate()
    process.wait(timeout=10)
    upstream.shutdown()


def _https(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ssl._create_unverified_context())
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_it_serves_tls_and_redirects_plain_http(nginx):
    conn = http.client.HTTPConnection("127.0.0.1", nginx["http_port"], timeout=5)
    conn.request("GET", "/c/demo/feedback/?embed=1")
    redirect = conn.getresponse()
    assert redirect.status == 301
    assert redirect.getheader("Location") == "https://127.0.0.1/c/demo/feedback/?embed=1"
    snippet = _https(nginx["tls_port"], "GET", "/embed.js")
    assert snippet.status == 200 and snippet.getheader("Cache-Control") == "public, max-age=3600"


def test_it_passes_the_request_id_and_the_client_to_gunicorn(nginx):
    assert _https(nginx["tls_port"], "GET", "/w/abc/").status == 200
    (seen,) = _Upstream.seen
    assert re.fullmatch(r"[0-9a-f]{32}", seen["headers"]["X-Request-ID"])
    assert seen["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert seen["headers"]["X-Forwarded-Proto"] == "https"


def test_it_never_exposes_metrics_and_hides_widget_internals(nginx):
    for path in ("/metrics", "/widgets/abc/nginx-map.conf", "/widgets/.nginx-reload", "/media/widgets/abc/index.json"):
        assert _https(nginx["tls_port"], "GET", path).status == 404, path
    assert _Upstream.seen == []


def test_it_caps_request_bodies_by_path(nginx):
    port = nginx["tls_port"]
    two_mb = b"x" * (2 * 1024 * 1024)
    assert _https(port, "POST", "/c/demo/feedback/", two_mb).status == 200  # a photo fits the form
    assert _https(port, "POST", "/w/abc/", two_mb).status == 413  # elsewhere 1 MB
    assert _https(port, "POST", "/c/demo/feedback/uploads/abcdefghijklmnopqrstuv/", two_mb).status == 200
    assert _https(port, "POST", "/c/demo/feedback/uploads/abcdefghijklmnopqrstuv/", b"x" * (10 * 2**20)).status == 413
    assert [s["bytes"] for s in _Upstream.seen] == [len(two_mb), len(two_mb)]


def test_it_passes_beacons_and_blocked_reports_as_small_posts_only(nginx):
    port = nginx["tls_port"]
    events = "/widgets/AbC_12-x/events"
    beacon = _https(port, "POST", events, b'{"e":[{"k":"view"}]}', {"Content-Type": "text/plain"})
    assert beacon.status == 200
    assert _https(port, "POST", events, b"x" * (32 * 1024), {"Content-Type": "text/plain"}).status == 413
    assert _https(port, "GET", events).status == 403
    assert _https(port, "POST", "/widgets/AbC_12-x/hello", b"{}", {"Content-Type": "text/plain"}).status == 200
    assert _https(port, "POST", "/widgets/AbC_12-x/blocked", b"").status == 200
    assert _https(port, "GET", "/widgets/AbC_12-x/blocked").status == 403
    assert [(s["method"], s["path"]) for s in _Upstream.seen] == [
        ("POST", events),
        ("POST", "/widgets/AbC_12-x/hello"),
        ("POST", "/widgets/AbC_12-x/blocked"),
    ]


def _locations(text: str) -> dict[str, str]:
    """Each `location ... { ... }` block (one level of braces inside) by its opening line."""
    found = {}
    for match in re.finditer(r"^( *)location [^\n]*\{\n(?:.*\n)*?\1\}$", text, flags=re.MULTILINE):
        block = match.group(0)
        found[block.splitlines()[0].strip()] = block
    return found


def test_it_serves_widgets_and_media_exactly_as_the_widgets_config_does():
    widgets = _locations((DOCS / "widgets-nginx.conf").read_text())
    deploy = _locations((DOCS / "deploy" / "nginx.conf").read_text())
    shared = [line for line in widgets if line != "location / {"]
    assert len(shared) >= 8
    for line in shared:
        assert deploy.get(line) == widgets[line], (
            f"docs/deploy/nginx.conf differs from docs/widgets-nginx.conf at {line}"
        )
