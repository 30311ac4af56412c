"""The viewer's templates and spike pass from the read that links the recording.

Adding a large recording to the store reads its whole file once, for its sha1 and chunk manifest (41.5 GB:
about 20 s, one core's sha1; ``store/chunk_manifest.py``), and the first precompute reads it once more, for
the templates and every spike's amplitude (``fused_pass``: about 15 s at the disk's speed, while a core is
mostly idle). When the sorting is known as the recording is stored (``store_recording(recording,
sorting=uri)``), the second read is not needed: the fused read's first look runs before the link, and the
blocks the link reads are added to the fused read on the other core while they are hashed
(``fused_pass.FromBytes``, ``chunk_manifest.reading_along``). Once the recording's object has its URI, the
templates and the pass are kept where the tasks look for them (``waveforms.keep_from_sums``: this process,
and the store's shared results, tasks/_shared.py), under the arguments ``average_waveforms.2`` and
``unit_metrics.2`` use by default and ``W.precompute`` asks for (all units, their default ``snippetLen`` and
``maxSpikesPerUnit``). The values are the tasks' own: the same fused read, fed the same bytes.

It applies when the tasks would make that fused read anyway (a file read in whole blocks, 8/16-bit samples,
one segment, results shared: ``fused_pass.wanted``, ``_shared.key_for``) and the link reads the file with a
version 2 manifest. Otherwise, or when the file's sha1 is already known (nothing is read), nothing is kept
and the tasks read the file as before.
"""
from __future__ import annotations

import contextlib
import inspect
import os
from typing import Any

from . import _shared, fused_pass
from ._objects import load_recording, load_sorting, resolve_units
from ._reading import trace_source


class AlongTheLink:
    """A fused read planned for a recording about to be linked and one stored sorting (:func:`plan`)."""

    def __init__(self, recording, sorting_uri: str, units: list[Any], frames: list, before: int, after: int,
                 max_spikes: int, fused: "fused_pass.FusedRead"):
        self.recording, self.sorting_uri, self.units, self.frames = recording, sorting_uri, units, frames
        self.before, self.after, self.max_spikes, self.fused = before, after, max_spikes, fused
        self.path = fused.source.raw_file.path
        self.feed = fused_pass.FromBytes(fused, os.path.getsize(self.path))

    def keep(self, recording_uri: str) -> bool:
        """After the link: keep the templates and the pass under the stored recording's URI; False (nothing
        kept) when the link did not read the whole file for this read."""
        from .waveforms import keep_from_sums

        if not self.feed.close():
            return False
        rec, sort = load_recording(recording_uri), load_sorting(self.sorting_uri)
        source = trace_source(rec)
        if (source.raw_file is None or os.path.realpath(source.raw_file.path) != os.path.realpath(self.path)
                or (source.num_frames, source.num_channels) != (self.fused.source.num_frames,
                                                                self.fused.source.num_channels)):
            return False
        self.fused.source = source  # the stored object's gains and file, as the tasks will read them
        sums, finish = self.fused.result()
        keep_from_sums(rec, sort, self.units, self.frames, self.before, self.after, self.max_spikes, sums, finish)
        return True

    def abandon(self) -> None:
        """The link failed: wait for the blocks handed on, keep nothing (the link's error is the one raised)."""
        with contextlib.suppress(Exception):
            self.feed.close()


def plan(recording, sorting_uri: str) -> AlongTheLink | None:
    """The fused read of ``recording`` for the sorting at ``sorting_uri``, its first look made, when one
    applies (see the module); None otherwise."""
    from .waveforms import _MOMENT_BYTES, average_waveforms_packed, channel_locations, selected_frames

    if not _shared.reusing() or recording.get_num_segments() != 1:
        return None
    defaults = inspect.signature(average_waveforms_packed).parameters
    before, after = (int(v) for v in defaults["snippetLen"].default)
    max_spikes = int(defaults["maxSpikesPerUnit"].default)
    sorting = load_sorting(sorting_uri)
    fs_rec, fs_sort = recording.get_sampling_frequency(), sorting.get_sampling_frequency()
    if abs(fs_rec - fs_sort) > 1e-6 * fs_rec:
        return None
    source = trace_source(recording)
    size = source.num_frames * source.num_channels * recording.get_dtype().itemsize
    if source.raw_file is None or size < _shared.SHARE_FROM_BYTES:
        return None
    units = resolve_units(sorting, None)
    frames = [selected_frames(sorting, u, source, before, after, max_spikes) for u in units]
    if not fused_pass.wanted(source, frames, before, after):
        return None
    fused = fused_pass.FusedRead.planned(source, sorting, units, frames, before, after,
                                         channel_locations(recording), _MOMENT_BYTES)
    if fused is None:
        return None
    return AlongTheLink(recording, sorting_uri, units, frames, before, after, max_spikes, fused)
