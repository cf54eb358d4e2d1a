"""The documented production read path (docs/widgets-nginx.conf) really serves published widgets
from disk with each widget's own frame-ancestors, and nothing else under /widgets/."""

from __future__ import annotations

import getpass
import http.client
import os
import shutil
import subprocess

import pytest

from bench.widget_serving import free_port, nginx_conf, wait_port
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.integration

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def nginx(settings, tmp_path):
    if not os.path.exists(NGINX):
        pytest.fail("nginx not found: apt-get install nginx-light")
    folder = tmp_path / "nginx"
    folder.mkdir()
    port = free_port()
    conf = nginx_conf(
        folder,
        port=port,
        app_port=free_port(),
        media=settings.MEDIA_ROOT,
        static=tmp_path / "static",
        ref=tmp_path,
        user=getpass.getuser(),  # pytest's tmp folders are private to this user
    )

    def start():
        subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(folder)], check=True, capture_output=True)
        process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
        wait_port(port)
        return process

    processes = []
    yield lambda: processes.append(start()) or port
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def _get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response


def test_it_serves_each_widget_framed_only_by_its_own_domains(db, brand_a, nginx):
    TestimonialFactory(brand=brand_a)
    shop = WidgetFactory(brand=brand_a)
    blog = WidgetFactory(brand=brand_a, allowed_domains=["https://blog.example.org", "https://news.example.org"])
    shop_version, blog_version = widget_publish(widget_id=shop.id), widget_publish(widget_id=blog.id)
    port = nginx()  # nginx reads the map files the publish task wrote

    doc = _get(port, f"/widgets/{shop.public_id}/{shop_version}.html")
    assert doc.status == 200
    assert doc.getheader("Content-Security-Policy").endswith("frame-ancestors https://shop-a.example.com")
    assert doc.getheader("Content-Type") == "text/html; charset=utf-8"
    assert doc.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    other = _get(port, f"/widgets/{blog.public_id}/{blog_version}.html")
    assert other.getheader("Content-Security-Policy").endswith(
        "frame-ancestors https://blog.example.org https://news.example.org"
    )
    pointer = _get(port, f"/widgets/{shop.public_id}/index.json")
    assert pointer.status == 200 and pointer.getheader("Access-Control-Allow-Origin") == "*"
    assert pointer.getheader("Cache-Control") == "public, max-age=5"
    data = _get(port, f"/widgets/{shop.public_id}/{shop_version}.json")
    assert data.status == 200 and data.getheader("Access-Control-Allow-Origin") == "*"

    for hidden in (
        f"/widgets/{shop.public_id}/nginx-map.conf",
        f"/widgets/{shop.public_id}/frame-ancestors",
        "/widgets/.nginx-reload",
        f"/media/widgets/{shop.public_id}/{shop_version}.html",
    ):
        assert _get(port, hidden).status == 404, hidden


def test_it_frames_a_widget_nginx_has_not_loaded_yet_for_nobody(db, brand_a, nginx):
    port = nginx()
    widget = WidgetFactory(brand=brand_a)
    version = widget_publish(widget_id=widget.id)  # published after nginx loaded its maps
    doc = _get(port, f"/widgets/{widget.public_id}/{version}.html")
    assert doc.status == 200
    assert doc.getheader("Content-Security-Policy").endswith("frame-ancestors 'none'")
