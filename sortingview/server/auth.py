"""Users and sign-in tokens: ``<store dir>/sortingview/users.json``.

A token is 32 random bytes shown once by ``sortingview user add``; only a salted PBKDF2-SHA256 digest of it
is kept. Tokens carry their user id as a prefix (``<user-id>:<secret>``) so that a check costs one digest,
not one per user. The file is re-read when it changes, so users added while a server runs can sign in.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass

from ..errors import AuthError, ConfigError

_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
_ITERATIONS = 100_000
#: token checks that may compute a digest at once (each costs ~50 ms of a core); more are answered "busy"
MAX_CONCURRENT_DIGESTS = 4


class SignInBusyError(AuthError):
    """Too many sign-in checks at once (a flood of wrong tokens); the client should retry shortly."""

    retry_after = 2


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    salt: str
    digest: str
    iterations: int
    created: float


def users_file(store_directory: str | None = None) -> str:
    """Where users are kept for the store directory (default: the current store)."""
    if store_directory is None:
        from ..store import store_dir

        store_directory = store_dir()
    return os.path.join(store_directory, "sortingview", "users.json")


def check_user_id(user_id: str) -> str:
    if not isinstance(user_id, str) or not _USER_ID.match(user_id):
        raise AuthError(
            f"invalid user id {user_id!r}: use letters, digits and _ . @ + - (at most 128 characters, "
            "starting with a letter or digit), e.g. an email address or a lab login"
        )
    return user_id


def _digest(secret: str, salt: str, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8", "surrogatepass"), bytes.fromhex(salt),
                               iterations).hex()


#: what a token of an unknown user is checked against (salt, iterations, digest): the same work, never a match
_DUMMY = (secrets.token_hex(16), _ITERATIONS, "0" * 64)


class UserStore:
    """The users of one store directory; safe to share between server threads."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._cache: tuple[float, int, dict[str, UserRecord]] | None = None
        self._verified: dict[str, str] = {}  # token -> user id, so each request does not pay PBKDF2
        self._digests = threading.BoundedSemaphore(MAX_CONCURRENT_DIGESTS)

    # --- reading ---------------------------------------------------------------------------------------
    def _load(self) -> dict[str, UserRecord]:
        from ..store.private import check_private

        try:
            st = check_private(self.path)  # a users file anyone else could have written is refused
        except FileNotFoundError:
            return {}
        with self._lock:
            if self._cache and self._cache[:2] == (st.st_mtime, st.st_size):
                return self._cache[2]
            try:
                with open(self.path, encoding="utf-8") as f:
                    raw = json.load(f)
                users = {uid: UserRecord(uid, r["salt"], r["digest"], int(r["iterations"]), float(r["created"]))
                         for uid, r in raw["users"].items()}
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"{self.path} is not a valid users file ({exc}); fix it or remove it and add the users again "
                    "with `sortingview user add`"
                ) from exc
            self._cache = (st.st_mtime, st.st_size, users)
            self._verified.clear()
            return users

    def list_users(self) -> list[UserRecord]:
        return sorted(self._load().values(), key=lambda r: r.user_id)

    def verify(self, token: str) -> str:
        """The user id a token belongs to; AuthError when it belongs to nobody."""
        users = self._load()
        hit = self._verified.get(token)
        if hit is not None and hit in users:
            return hit
        user_id, sep, secret = token.rpartition(":") if isinstance(token, str) else ("", "", "")
        rec = users.get(user_id) if sep else None
        # an unknown user costs the same digest as a known one, so timing does not tell which user ids exist
        salt, iterations, expected = (rec.salt, rec.iterations, rec.digest) if rec else _DUMMY
        # never waiting for a turn: a flood of wrong tokens is answered "busy" instead of holding server threads
        if not self._digests.acquire(blocking=False):
            raise SignInBusyError("too many sign-in checks at once; try again in a few seconds")
        try:
            match = hmac.compare_digest(expected, _digest(secret, salt, iterations))
        finally:
            self._digests.release()
        if rec is None or not match:
            raise AuthError(
                "this sign-in token is not valid (mistyped, or its user was removed); ask the owner of the store "
                "to run `sortingview user add <your-id>` and use the token it prints"
            )
        self._verified[token] = user_id
        return user_id

    # --- writing ---------------------------------------------------------------------------------------
    def _save(self, users: dict[str, UserRecord]) -> None:
        from ..store.private import write_file

        data = {"users": {u.user_id: {"salt": u.salt, "digest": u.digest, "iterations": u.iterations,
                                      "created": u.created} for u in users.values()}}
        # private (0600) even in a group-shared store: only the server's user may read or replace it
        write_file(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), private=True)

    @contextlib.contextmanager
    def _locked(self):
        """Serialize read-modify-write of the file between processes (two `user add` at once keep both)."""
        from ..store.private import locked, makedirs

        makedirs(os.path.dirname(self.path))
        with locked(self.path):
            self._cache = None  # re-read under the lock
            yield

    def add_user(self, user_id: str, *, replace: bool = False) -> str:
        """Create (or with ``replace`` re-issue) a user's token and return it; it is not kept in clear."""
        check_user_id(user_id)
        with self._locked():
            return self._add_user(user_id, replace)

    def _add_user(self, user_id: str, replace: bool) -> str:
        users = dict(self._load())
        if user_id in users and not replace:
            raise AuthError(
                f"user {user_id!r} already exists; use `sortingview user add {user_id} --replace` to issue a new "
                "token (the old one stops working)"
            )
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        users[user_id] = UserRecord(user_id, salt, _digest(secret, salt, _ITERATIONS), _ITERATIONS, time.time())
        self._save(users)
        return f"{user_id}:{secret}"

    def remove_user(self, user_id: str) -> None:
        with self._locked():
            self._remove_user(user_id)

    def _remove_user(self, user_id: str) -> None:
        users = dict(self._load())
        if user_id not in users:
            known = ", ".join(sorted(users)) or "(none)"
            raise AuthError(f"no user {user_id!r} in {self.path}; users are: {known}")
        del users[user_id]
        self._save(users)
