"""Parsing and making of store URIs."""
from __future__ import annotations

import pytest

from sortingview.errors import InvalidUriError
from sortingview.store.uri import ParsedUri, make_feed_uri, make_uri, parse_feed_uri, parse_uri

H = "3f786850e387550fdab836ed7e6dc881de23001b"


@pytest.mark.parametrize("label", ["firings.npz", "a b", "a&b=c", "x+y", "dir/file.bin", "µV – 中文", "50%", "?"])
def test_labels_round_trip(label):
    uri = make_uri(H, label)
    assert " " not in uri and "&b" not in uri
    assert parse_uri(uri) == ParsedUri(H, label)


@pytest.mark.parametrize("uri,expected", [
    (f"sha1://{H}", ParsedUri(H)),
    (f"sha1://{H.upper()}", ParsedUri(H)),
    (f"  sha1://{H}?label=x.txt\n", ParsedUri(H, "x.txt")),
    (f"sha1://{H}/rec%201.dat", ParsedUri(H, "rec 1.dat")),
    (f"sha1://{H}?label=x&location=/data/x", ParsedUri(H, "x", "/data/x")),
    (f"kachery:lab:sha1:{H}", ParsedUri(H)),
    (f"kachery:lab:sha1:{H}:sorting%20A", ParsedUri(H, "sorting A")),
])
def test_accepted_forms(uri, expected):
    assert parse_uri(uri) == expected


def test_parsed_uri_prints_the_canonical_form():
    assert parse_uri(f"kachery:z:sha1:{H}:a b").uri == f"sha1://{H}?label=a%20b"


@pytest.mark.parametrize("bad,hint", [
    ("sha1://../..", "40-character"),
    (f"sha1://{H}/../../etc", "'..'"),
    (f"sha1://{H[:-1]}", "40-character"),
    (H, f"write it as sha1://{H}"),
    ("/home/me/data.bin", "sortingview store put"),
    ("https://example.org/x", "sortingview store put"),
    (f"kachery:zone:sha256:{H}", "kachery:<zone>:sha1"),
    (f"feed://{'ab' * 20}", "feed show"),
    ("", "expected sha1://"),
])
def test_refused_forms_say_what_to_write(bad, hint):
    with pytest.raises(InvalidUriError) as ei:
        parse_uri(bad)
    assert hint in str(ei.value)


def test_make_uri_refuses_non_hashes():
    with pytest.raises(InvalidUriError, match="40 lowercase"):
        make_uri("../etc/passwd")


def test_feed_uris():
    assert parse_feed_uri("feed://" + "ab" * 20) == "ab" * 20
    assert parse_feed_uri("ab" * 20) == "ab" * 20  # a bare id is accepted
    assert make_feed_uri("ab" * 20) == "feed://" + "ab" * 20
    for bad in ("feed://", "feed://ABCDEF12", "feed://../../x", "feed://abc", None):
        with pytest.raises(InvalidUriError):
            parse_feed_uri(bad)
