"""One exception hierarchy for everything sortingview raises on purpose.

Every error a user can meet derives from :class:`SortingviewError`, and its message says what was wrong,
with which input, and what to do about it.
"""
from __future__ import annotations


class SortingviewError(Exception):
    """Root of all errors raised by sortingview on purpose."""


# --- store -------------------------------------------------------------------------------------------
class InvalidUriError(SortingviewError, ValueError):
    """A string that should be a store URI (sha1://..., kachery:..., feed://...) is not one."""


class NotFoundError(SortingviewError, LookupError):
    """Content named by a valid URI is not in the store."""


class IntegrityError(SortingviewError):
    """Bytes in the store no longer match the sha1 that names them."""


class LinkedFileChangedError(IntegrityError):
    """A file referenced by link_file was modified, truncated or removed after it was linked."""


class InvalidMutableKeyError(SortingviewError, ValueError):
    """A mutable key is not of the form @a/@b/name (no '..', no empty parts)."""


class InvalidMutableValueError(SortingviewError, TypeError):
    """A mutable value is not a string (mutables hold text; encode structured values with json.dumps)."""


class DiskFullError(SortingviewError, OSError):
    """A write failed because the disk (or a quota or file-size limit) is full; nothing partial was kept."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


class FeedError(SortingviewError):
    """A feed is missing, malformed, or an append was refused."""


class SerializationError(SortingviewError, ValueError):
    """A value cannot be encoded to or decoded from sortingview's JSON encoding."""


# --- extractors and workspace -------------------------------------------------------------------------
class UnsupportedExtractorError(SortingviewError, TypeError):
    """A recording or sorting extractor type cannot be stored as an object (copy it first)."""


class InvalidObjectError(SortingviewError, ValueError):
    """A stored recording/sorting object is malformed or of a format not on the allow-list."""


class WorkspaceError(SortingviewError):
    """A workspace operation refers to something that does not exist or is not allowed."""


class CurationError(SortingviewError, ValueError):
    """A curation action is invalid (unknown unit, unknown label, closed curation, ...)."""


# --- tasks and backend --------------------------------------------------------------------------------
class TaskError(SortingviewError):
    """A task failed. ``traceback`` holds the remote traceback text when there is one."""

    def __init__(self, message: str, *, traceback: str | None = None):
        super().__init__(message)
        self.traceback = traceback


class UnknownTaskError(TaskError, LookupError):
    """A task name is not registered."""


class TaskInputError(TaskError, ValueError):
    """A task's input is missing a field, has an unknown field, or a field of the wrong type."""


class TaskTimeoutError(TaskError, TimeoutError):
    """A task did not finish in time (in the worker, or while a client waited for it)."""


class ChannelError(SortingviewError):
    """The task channel (SQLite or Redis) cannot be reached or is in a bad state."""


class ConfigError(SortingviewError, ValueError):
    """A configuration file or option is invalid; the message names the key and the file."""


# --- server --------------------------------------------------------------------------------------------
class AuthError(SortingviewError, PermissionError):
    """A request needs a signed-in user, or the user is not authorized for it."""


# --- messages --------------------------------------------------------------------------------------------
_ACRONYM_VOWEL_SOUND = set("AEFHILMNORSX")  # letters whose names start with a vowel sound: "an NWB file"
_VOWEL_LETTER_CONSONANT_SOUND = ("uni", "use", "usu", "one", "eu")  # "a unit", "a user", "a one-off"


def with_article(word: str) -> str:
    """``word`` after "a" or "an", chosen by how it sounds, for messages that name a type or value:
    "an InjectTemplatesRecording", "a BinaryRecordingExtractor", "an int", "an NWB file", "a unit"."""
    if not word:
        return word
    head = word[:2]
    if len(head) == 2 and head.isupper() and head.isalpha():  # an acronym is read letter by letter
        return f"{'an' if word[0] in _ACRONYM_VOWEL_SOUND else 'a'} {word}"
    lower = word.lower()
    vowel_sound = lower[0] in "aeiou" and not lower.startswith(_VOWEL_LETTER_CONSONANT_SOUND)
    return f"{'an' if vowel_sound else 'a'} {word}"
