"""URLs and hosts as a client connects to them: userinfo, IP literals in any spelling, metadata."""

from __future__ import annotations

import ipaddress

import pytest

from agentguard.action import Action
from agentguard.normalise import normalise, parse_url

URLS = [
    # (url, host, loopback, private, metadata)
    pytest.param("https://pypi.org/simple/", "pypi.org", False, False, False, id="plain"),
    pytest.param("HTTPS://PyPI.ORG./simple", "pypi.org", False, False, False, id="case-and-trailing-dot"),
    pytest.param("https://allowed.org@evil.example/", "evil.example", False, False, False, id="userinfo"),
    pytest.param(
        "https://allowed.org:pw@evil.example:8443/",
        "evil.example",
        False,
        False,
        False,
        id="userinfo-pw-port",
    ),
    pytest.param("http://a@b@evil.example/", "evil.example", False, False, False, id="double-at"),
    pytest.param("http://127.0.0.1:8000/", "127.0.0.1", True, True, False, id="loopback"),
    pytest.param("http://localhost/", "localhost", True, True, False, id="localhost"),
    pytest.param("http://app.localhost/", "app.localhost", True, True, False, id="dot-localhost"),
    pytest.param("http://2130706433/", "127.0.0.1", True, True, False, id="decimal"),
    pytest.param("http://0x7f000001/", "127.0.0.1", True, True, False, id="hex"),
    pytest.param("http://0177.0.0.1/", "127.0.0.1", True, True, False, id="octal"),
    pytest.param("http://0x7f.1/", "127.0.0.1", True, True, False, id="hex-short"),
    pytest.param("http://127.1/", "127.0.0.1", True, True, False, id="short"),
    pytest.param("http://0/", "0.0.0.0", True, True, False, id="zero"),
    pytest.param("http://[::1]/", "::1", True, True, False, id="ipv6-loopback"),
    pytest.param("http://[::ffff:127.0.0.1]/", "127.0.0.1", True, True, False, id="ipv4-mapped"),
    pytest.param("http://[::ffff:7f00:1]/", "127.0.0.1", True, True, False, id="ipv4-mapped-hex"),
    pytest.param("http://[64:ff9b::7f00:1]/", "127.0.0.1", True, True, False, id="nat64"),
    pytest.param("http://[fe80::1%25eth0]/", "fe80::1", False, True, False, id="zone-id"),
    pytest.param(
        "http://169.254.169.254/latest/meta-data/", "169.254.169.254", False, True, True, id="aws-metadata"
    ),
    pytest.param("http://0xa9fea9fe/", "169.254.169.254", False, True, True, id="metadata-hex"),
    pytest.param("http://[fd00:ec2::254]/", "fd00:ec2::254", False, True, True, id="aws-metadata-v6"),
    pytest.param(
        "http://metadata.google.internal/", "metadata.google.internal", False, True, True, id="gcp-metadata"
    ),
    pytest.param("http://100.100.100.200/", "100.100.100.200", False, True, True, id="alibaba-metadata"),
    pytest.param("http://10.1.2.3/", "10.1.2.3", False, True, False, id="private-10"),
    pytest.param("http://192.168.0.1/", "192.168.0.1", False, True, False, id="private-192"),
    pytest.param("http://%31%32%37.0.0.1/", "127.0.0.1", True, True, False, id="percent-encoded"),
    pytest.param("http://127.0.0.1.nip.io/", "127.0.0.1.nip.io", True, True, False, id="wildcard-dns"),
    pytest.param("https://bücher.example/", "xn--bcher-kva.example", False, False, False, id="idna"),
    pytest.param("https://evil。example/", "evil.example", False, False, False, id="ideographic-dot"),
    pytest.param("http:/\\evil.example/", "evil.example", False, False, False, id="slash-backslash"),
]


@pytest.mark.parametrize(("url", "host", "loopback", "private", "metadata"), URLS)
def test_url_hosts(url: str, host: str, loopback: bool, private: bool, metadata: bool) -> None:
    fact = parse_url(url)
    assert fact is not None
    assert fact.host == host
    assert fact.is_loopback is loopback
    assert fact.is_private is private
    assert fact.is_metadata is metadata


def test_userinfo_is_flagged() -> None:
    fact = parse_url("https://allowed.org@evil.example/")
    assert fact is not None and fact.had_userinfo


def test_backslash_in_authority_reports_both_readings() -> None:
    fact = parse_url("http://evil.example\\@allowed.org/")
    assert fact is not None
    assert set(fact.hosts) == {"evil.example", "allowed.org"}


def test_ip_is_an_ipaddress_object() -> None:
    fact = parse_url("http://0x7f000001/")
    assert fact is not None and fact.ip == ipaddress.ip_address("127.0.0.1")


def test_port_and_scheme() -> None:
    fact = parse_url("HTTP://Example.com:8080/x")
    assert fact is not None and (fact.scheme, fact.host, fact.port) == ("http", "example.com", 8080)
    fact = parse_url("https://example.com/")
    assert fact is not None and fact.port == 443


@pytest.mark.parametrize("url", ["", "not a url", "mailto:x@y", "http://", "://x"])
def test_no_host_is_none(url: str) -> None:
    assert parse_url(url) is None


def test_network_action_facts() -> None:
    facts = normalise(Action(kind="network", tool="fetch", url="http://[::ffff:169.254.169.254]/"))
    assert facts.hosts == ("169.254.169.254",)
    assert facts.urls[0].is_metadata


def test_network_action_without_host_is_opaque() -> None:
    facts = normalise(Action(kind="network", tool="fetch", url="http://"))
    assert facts.opaque
