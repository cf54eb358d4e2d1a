"""The SSRF guard: only public addresses, resolved once and connected to as resolved, with timeouts,
a size cap and no redirects elsewhere. Against a real receiver on loopback."""

from __future__ import annotations

import socket

import pytest

from testimonials import safehttp
from tests.receiver import Receiver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.9.9.9", "::1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fd00:ec2::254", "fe80::1", "2002:7f00:1::1", "224.0.0.1",
        "198.18.0.1", "240.0.0.1",
    ],
)  # fmt: skip
def test_it_refuses_private_loopback_link_local_and_metadata_addresses(address):
    assert not safehttp.address_allowed(address)


def test_it_allows_public_addresses_and_loopback_only_when_told():
    assert safehttp.address_allowed("93.184.215.14") and safehttp.address_allowed("2606:4700::1111")
    assert safehttp.address_allowed("127.0.0.1", allow_loopback=True)
    assert not safehttp.address_allowed("10.0.0.1", allow_loopback=True)


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://169.254.169.254/latest/meta-data/", "scheme"),
        ("https://169.254.169.254/latest/meta-data/", "private_address"),
        ("https://10.1.2.3/hook", "private_address"),
        ("https://[::1]/hook", "private_address"),
        ("https://localhost/hook", "private_address"),
        ("ftp://example.com/", "scheme"),
        ("https://user:pw@example.com/", "url"),
        ("https://exa mple.com/", "url"),
        ("https://example.com:99999/", "url"),
        ("javascript:alert(1)", "scheme"),
    ],
)
def test_it_refuses_urls_it_must_not_call(url, code):
    with pytest.raises(safehttp.OutboundRefused) as refused:
        safehttp.resolve(url)
    assert refused.value.code == code


def test_it_refuses_a_name_with_one_private_answer_among_public_ones():
    def resolver(host, port, type):
        return [
            (socket.AF_INET, type, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, type, 6, "", ("10.0.0.8", port)),
        ]

    with pytest.raises(safehttp.OutboundRefused, match=r"10\.0\.0\.8"):
        safehttp.resolve("https://mixed.example/hook", resolver=resolver)


def test_it_connects_to_the_address_it_checked_whatever_the_name_resolves_to_later():
    answers = iter(["127.0.0.1", "10.0.0.9"])  # a rebinding DNS: the second answer is private
    calls = []

    def resolver(host, port, type):
        calls.append(host)
        return [(socket.AF_INET, type, 6, "", (next(answers), port))]

    with Receiver() as server:
        destination = safehttp.resolve(f"http://rebind.test:{server.port}/hook", allow_loopback=True, resolver=resolver)
        response = safehttp.send(destination, body=b"{}")
    assert response.status == 200 and response.address == "127.0.0.1"
    assert calls == ["rebind.test"]  # resolved once; the connection never asked again
    assert server.requests[0].headers["host"] == f"rebind.test:{server.port}"


def test_it_gives_up_on_a_slow_receiver():
    with Receiver(delay=1.5) as server:
        destination = safehttp.resolve(server.url(), allow_loopback=True)
        with pytest.raises(safehttp.OutboundFailed, match="timed out"):
            safehttp.send(destination, read_timeout=0.3)


def test_it_reads_the_answer_up_to_its_cap():
    with Receiver(body=b"x" * 100_000) as server:
        response = safehttp.send(safehttp.resolve(server.url(), allow_loopback=True), max_bytes=1000)
    assert response.truncated and len(response.body) == 1000


def test_it_never_follows_a_redirect_when_sending():
    with Receiver(status=302, headers={"Location": "http://10.0.0.1/"}) as server:
        response = safehttp.send(safehttp.resolve(server.url(), allow_loopback=True))
    assert response.status == 302 and len(server.requests) == 1


def test_it_fetches_through_same_host_redirects_only():
    with Receiver() as server:
        server.files["/photo.jpg"] = (b"JPEGDATA", "image/jpeg")
        server.script = [302]
        server.headers = {"Location": "/photo.jpg"}
        response = safehttp.fetch(server.url("/old.jpg"), allow_loopback=True, max_bytes=1000)
        assert response.body == b"JPEGDATA" and response.redirects == [server.url("/photo.jpg")]
        server.script = [302]
        server.headers = {"Location": "https://elsewhere.example/x.jpg"}
        with pytest.raises(safehttp.OutboundRefused, match="another host"):
            safehttp.fetch(server.url("/old.jpg"), allow_loopback=True, max_bytes=1000)


def test_it_refuses_a_fetched_file_over_its_cap():
    with Receiver(body=b"y" * 5000) as server, pytest.raises(safehttp.OutboundFailed, match="larger"):
        safehttp.fetch(server.url("/big.jpg"), allow_loopback=True, max_bytes=1000)
