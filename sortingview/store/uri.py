"""Parsing and making of store URIs: ``sha1://<hash>?label=...``, ``kachery:<zone>:sha1:<hash>[:label]``
and ``feed://<feedId>``. Anything else that claims to be a URI is an :class:`InvalidUriError`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote

from ..errors import InvalidUriError

_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_FEED_ID = re.compile(r"^[0-9a-f]{8,64}$")


@dataclass(frozen=True)
class ParsedUri:
    sha1: str
    label: str | None = None
    #: kachery-cloud's ``store_file_local(..., reference=True)`` puts the file's path in ``&location=``
    location: str | None = None

    @property
    def uri(self) -> str:
        return make_uri(self.sha1, self.label)


def is_sha1(text: str) -> bool:
    return bool(_HEX40.match(text))


def check_sha1(sha1: str) -> str:
    if not isinstance(sha1, str) or not _HEX40.match(sha1):
        raise InvalidUriError(f"{sha1!r} is not a sha1 hash (40 lowercase hexadecimal characters); "
                              "pass the hash part of a sha1:// URI")
    return sha1


def make_uri(sha1: str, label: str | None = None) -> str:
    check_sha1(sha1)
    uri = f"sha1://{sha1}"
    if label:
        uri += f"?label={quote(label)}"
    return uri


def parse_uri(uri: str) -> ParsedUri:
    """Parse a content URI; raise InvalidUriError with a hint when it is not one."""
    if not isinstance(uri, str):
        raise InvalidUriError(f"expected a URI string like sha1://<40 hex>, got {type(uri).__name__}")
    uri = uri.strip()  # pasted from a terminal or a file, URIs often carry a newline
    if uri.startswith("sha1://"):
        rest = uri[len("sha1://"):]
        path, _, query = rest.partition("?")
        parts = path.split("/")
        sha1 = parts[0].lower()
        if not _HEX40.match(sha1):
            raise InvalidUriError(
                f"invalid URI {uri!r}: after sha1:// there must be a 40-character hexadecimal hash; "
                "copy the whole URI as `sortingview store put` printed it"
            )
        if any(p in ("..", ".") for p in parts[1:]):
            raise InvalidUriError(f"invalid URI {uri!r}: path components '.' and '..' are not allowed; "
                                  "use sha1://<40 hex>?label=<name>")
        label = location = None
        if query:
            q = parse_qs(query)
            label = q.get("label", [None])[0]
            location = q.get("location", [None])[0]
        elif len(parts) > 1 and parts[-1]:
            label = unquote(parts[-1])
        return ParsedUri(sha1, label, location)
    if uri.startswith("kachery:"):
        parts = uri.split(":")
        if len(parts) in (4, 5) and parts[2] == "sha1" and _HEX40.match(parts[3].lower()):
            label = unquote(parts[4]) if len(parts) == 5 and parts[4] else None
            return ParsedUri(parts[3].lower(), label)
        raise InvalidUriError(
            f"invalid URI {uri!r}: expected kachery:<zone>:sha1:<40 hex>[:label]; or write it as sha1://<40 hex>"
        )
    hint = ""
    if _HEX40.match(uri.lower()):
        hint = f" (write it as sha1://{uri.lower()})"
    elif uri.startswith("feed://"):
        hint = " (this is a feed; read it with load_feed or `sortingview feed show URI`)"
    elif uri.startswith(("ipfs://", "gs://", "sha256://", "http://", "https://", "/", ".")):
        hint = " (only content URIs of the local store are accepted; store the file first with " \
               "`sortingview store put PATH`)"
    raise InvalidUriError(f"invalid URI {uri!r}: expected sha1://<40 hex>[?label=...]{hint}")


def parse_feed_uri(uri: str) -> str:
    """Return the feed id of ``feed://<feedId>`` (a bare feed id is accepted too)."""
    if not isinstance(uri, str):
        raise InvalidUriError(f"expected a feed URI like feed://<id>, got {type(uri).__name__}")
    feed_id = uri[len("feed://"):] if uri.startswith("feed://") else uri
    feed_id = feed_id.split("?")[0]
    if not _FEED_ID.match(feed_id):
        raise InvalidUriError(
            f"invalid feed URI {uri!r}: expected feed://<hexadecimal feed id>; use the URI printed when the "
            "feed was created (a workspace's feed_uri, for example)")
    return feed_id


def make_feed_uri(feed_id: str) -> str:
    return f"feed://{parse_feed_uri(feed_id)}"
