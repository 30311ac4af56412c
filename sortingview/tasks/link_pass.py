"""The viewer's templates and spike pass from the read that links the recording.

Adding a large recording to the store reads its whole file once, for its sha1 and chunk manifest (41.5 GB:
about 20 s, one core's sha1; ``store/chunk_manifest.py``), and the first precompute reads it once more, for
the templates and every spike's amplitude (``fused_pass``: about 15 s at the disk's speed, while a core is
mostly idle). When the sorting is known as the recording is stored (``store_recording(recording,
sorting=...)``), the second read is not needed: when the link starts reading, before it hashes the first
block, the fused read is planned (its template spikes chosen, its first look made), and the blocks the link
reads are added to it on the other core while they are hashed (``fused_pass.FromBytes``,
``chunk_manifest.reading_along``). Once the recording's object has its URI, the
templates and the pass are kept where the tasks look for them (``waveforms.keep_from_sums``: this process,
and the store's shared results, tasks/_shared.py), under the arguments ``average_waveforms.2`` and
``unit_metrics.2`` use by default and ``W.precompute`` asks for (all units, their default ``snippetLen`` and
``maxSpikesPerUnit``). The values are the tasks' own: the same fused read, fed the same bytes.

It applies when the tasks would make that fused read anyway (a file read in whole blocks, 8/16-bit samples,
one segment, results shared: ``fused_pass.wanted``, ``_shared.key_for``) and the link reads the file with a
version 2 manifest. Otherwise nothing is kept and the tasks read the file as before; when the file's sha1 is
already known (nothing is read), no look is made either.
"""
from __future__ import annotations

import contextlib
import inspect
import os

from . import _shared, fused_pass
from ._objects import load_recording, load_sorting, resolve_units
from ._reading import block_workers, trace_source


class AlongTheLink:
    """A fused read of a recording about to be linked, for one stored sorting (:func:`plan`). It is planned
    (its template spikes chosen, its first look made) when the link starts reading the file, before the
    first block is hashed: a link that reads nothing (the file's sha1 known) costs no look."""

    def __init__(self, recording, sorting_uri: str, sorting, source):
        self.recording, self.sorting_uri, self.sorting, self.source = recording, sorting_uri, sorting, source
        self.path = source.raw_file.path
        self.feed = fused_pass.FromBytes(source, os.path.getsize(self.path), block_workers(source), plan=self._plan)
        self._error: BaseException | None = None

    def _plan(self) -> "fused_pass.FusedRead | None":
        from .waveforms import _MOMENT_BYTES, channel_locations, selected_frames

        try:
            before, after, max_spikes = _arguments()
            units = resolve_units(self.sorting, None)
            frames = [selected_frames(self.sorting, u, self.source, before, after, max_spikes) for u in units]
            if not fused_pass.wanted(self.source, frames, before, after):
                return None
            self.units, self.frames, self.before, self.after, self.max_spikes = units, frames, before, after, max_spikes
            return fused_pass.FusedRead.planned(self.source, self.sorting, units, frames, before, after,
                                                channel_locations(self.recording), _MOMENT_BYTES)
        except Exception as exc:  # raised once the link has ended (keep), not inside its hashing loop
            self._error = exc
            return None

    def keep(self, recording_uri: str) -> bool:
        """After the link: keep the templates and the pass under the stored recording's URI; False (nothing
        kept) when the link did not read the whole file for this read, or the fused read does not apply."""
        from .waveforms import keep_from_sums

        complete = self.feed.close()
        if self._error is not None:
            raise self._error
        if not complete:
            return False
        rec, sort = load_recording(recording_uri), load_sorting(self.sorting_uri)
        source = trace_source(rec)  # (the file may be another with the same bytes: its object is the same)
        if source.raw_file is None or (source.num_frames, source.num_channels) != (self.source.num_frames,
                                                                                   self.source.num_channels):
            return False
        fused = self.feed.fused
        fused.source = source  # the stored object's gains, as the tasks will read them
        sums, finish = fused.result()
        keep_from_sums(rec, sort, self.units, self.frames, self.before, self.after, self.max_spikes, sums, finish)
        return True

    def abandon(self) -> None:
        """The link failed: wait for the blocks handed on, keep nothing (the link's error is the one raised)."""
        with contextlib.suppress(Exception):
            self.feed.close()


def _arguments() -> tuple[int, int, int]:
    """(before, after, template spikes per unit): ``average_waveforms.2``'s defaults, which ``W.precompute``
    asks for."""
    from .waveforms import average_waveforms_packed

    defaults = inspect.signature(average_waveforms_packed).parameters
    before, after = (int(v) for v in defaults["snippetLen"].default)
    return before, after, int(defaults["maxSpikesPerUnit"].default)


def plan(recording, sorting_uri: str) -> AlongTheLink | None:
    """The fused read of ``recording`` for the sorting at ``sorting_uri``, to be fed by the link's read, when
    one may apply (see the module; whether the template spikes cover enough of the file is known once they
    are chosen, when the link starts); None otherwise."""
    if not _shared.reusing() or recording.get_num_segments() != 1:
        return None
    sorting = load_sorting(sorting_uri)
    fs_rec, fs_sort = recording.get_sampling_frequency(), sorting.get_sampling_frequency()
    if abs(fs_rec - fs_sort) > 1e-6 * fs_rec:
        return None
    source = trace_source(recording)
    dtype = recording.get_dtype()
    size = source.num_frames * source.num_channels * dtype.itemsize
    if source.raw_file is None or size < _shared.SHARE_FROM_BYTES or dtype.kind not in "iu" or dtype.itemsize > 2:
        return None
    return AlongTheLink(recording, sorting_uri, sorting, source)
