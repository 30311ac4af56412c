"""What peers ask of this server besides store files: chunk manifests of stored and linked files.

``GET /api/manifest/<sha1>?chunk=<bytes>`` answers the manifest of sortingview.store.chunk_manifest (built
once per file and chunk size, then served from the store). While it is being built (in the background, one at
a time) the answer is 202 with ``Retry-After``. ``GET /api/chunks/<sha1>?start=&end=&codec=zlib`` answers a
byte range compressed (store/chunk_codec.py). Store files themselves, whole or by HTTP range, are
``GET /api/file/<sha1>`` (server/api.py).
"""
from __future__ import annotations

import os

from flask import Blueprint, Response, jsonify, request

from ..errors import InvalidUriError, NotFoundError
from ..store import get_store
from ..store.chunk_manifest import ManifestError, check_chunk_size, manifest_of_local
from ..store.uri import check_sha1
from .http import ApiError

bp = Blueprint("peer", __name__, url_prefix="/api")
RETRY_AFTER_SEC = 2


@bp.get("/manifest/<path:sha1>")
def chunk_manifest(sha1: str):
    try:
        sha1 = check_sha1(sha1.lower())
    except InvalidUriError as exc:
        raise ApiError(400, f"{exc}; manifests are addressed as /api/manifest/<sha1>?chunk=<bytes>") from None
    raw = request.args.get("chunk", "")
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(400, f"query parameter chunk={raw!r} must be the chunk size in bytes, e.g. chunk=65536")
    store = get_store()
    if not store.has(sha1):
        raise NotFoundError(f"sha1://{sha1} is not in this server's store")
    try:
        check_chunk_size(int(raw))
        built = manifest_of_local(store, sha1, int(raw), wait=False)
    except ManifestError as exc:
        raise ApiError(400, str(exc)) from None
    if built is None:  # hashing a large file takes minutes: the peer asks again
        resp = jsonify({"status": "building", "retryAfterSec": RETRY_AFTER_SEC,
                        "message": f"the chunk manifest of sha1://{sha1} is being built; ask again"})
        resp.status_code = 202
        resp.headers["Retry-After"] = str(RETRY_AFTER_SEC)
        return resp
    msha1, manifest = built
    resp = Response(manifest.to_bytes(), mimetype="application/octet-stream")
    resp.headers["X-Sortingview-Manifest-Sha1"] = msha1
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return resp


@bp.get("/chunks/<path:sha1>")
def compressed_chunks(sha1: str):
    """Bytes ``start..end-1`` of a store file, compressed (store/chunk_codec.py); the reader verifies the
    decompressed chunks against the manifest, so this answer is trusted no more than a plain range."""
    from ..store.chunk_codec import CODEC, MAX_RAW_BYTES, encode, read_range

    try:
        sha1 = check_sha1(sha1.lower())
    except InvalidUriError as exc:
        raise ApiError(400, f"{exc}; compressed chunks are /api/chunks/<sha1>?start=<byte>&end=<byte>&codec=zlib") \
            from None
    if request.args.get("codec") != CODEC:
        raise ApiError(400, f"codec={request.args.get('codec')!r} is not served; ask for codec={CODEC}")
    start, end = (request.args.get(k, "") for k in ("start", "end"))
    if not (start.isdigit() and end.isdigit() and len(start) <= 15 and len(end) <= 15):
        raise ApiError(400, "start and end must be byte offsets, e.g. start=0&end=65536")
    start, end = int(start), int(end)
    store = get_store()
    if not store.has(sha1):
        raise NotFoundError(f"sha1://{sha1} is not in this server's store")
    path = store.local_path(sha1)
    size = os.path.getsize(path)
    if not start < end <= size or end - start > MAX_RAW_BYTES:
        raise ApiError(400, f"bytes {start}..{end} are not a range of at most {MAX_RAW_BYTES} bytes inside the "
                            f"{size}-byte file")
    resp = Response(encode(read_range(path, start, end)), mimetype="application/octet-stream")
    resp.headers["X-Sortingview-Codec"] = CODEC
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return resp
