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

The noise levels (``info.recording_noise_levels``' 20 chunks, read directly) are computed while the first look
waits for the disk. With them and what was kept, the link then answers the viewer's first requests
(``backend.precompute.requests_for``: recording and sorting info, autocorrelograms, average waveforms, unit
metrics; 0.3 s for 500 units) and stores the answers with the task results, so that ``W.precompute`` and the
viewer find them there, through a backend or not.

It applies when the tasks would make that fused read anyway (a file read in whole blocks, 8/16-bit samples,
one segment, results shared: ``fused_pass.wanted``, ``_shared.key_for``) and the link reads the file with a
version 2 manifest. Otherwise nothing is kept and the tasks read the file as before; when the file's sha1 is
already known (nothing is read), no look is made either.
"""
from __future__ import annotations

import contextlib
import inspect
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from . import _shared, fused_pass
from ._objects import load_recording, load_sorting, resolve_units
from ._reading import block_workers, trace_source
from .info import keep_noise_levels

logger = logging.getLogger(__name__)


class AlongTheLink:
    """A fused read of a recording about to be linked, for one stored sorting (:func:`plan`). It is planned
    (its template spikes chosen, its first look made) when the link starts reading the file, before the
    first block is hashed: a link that reads nothing (the file's sha1 known) costs no look."""

    def __init__(self, recording, sorting_uri: str, sorting, source):
        self.recording, self.sorting_uri, self.sorting, self.source = recording, sorting_uri, sorting, source
        self.path = source.raw_file.path
        self.feed = fused_pass.FromBytes(source, os.path.getsize(self.path), block_workers(source), plan=self._plan)
        self._error: BaseException | None = None
        self._noise: Future | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="link-noise")

    def _plan(self) -> "fused_pass.FusedRead | None":
        from .info import raw_file_noise_levels
        from .waveforms import _MOMENT_BYTES, channel_locations, selected_frames

        try:
            before, after, max_spikes = _arguments()
            units = resolve_units(self.sorting, None)
            frames = [selected_frames(self.sorting, u, self.source, before, after, max_spikes) for u in units]
            if not fused_pass.wanted(self.source, frames, before, after):
                return None
            self.units, self.frames, self.before, self.after, self.max_spikes = units, frames, before, after, max_spikes

            def noise() -> None:  # the noise levels recording_info shows and unit_metrics divides by (20 chunks
                # of 10,000 frames, read directly): computed while the first look waits for the disk
                self._noise = self._pool.submit(raw_file_noise_levels, self.source)

            return fused_pass.FusedRead.planned(self.source, self.sorting, units, frames, before, after,
                                                channel_locations(self.recording), _MOMENT_BYTES, on_start=noise)
        except Exception as exc:  # raised once the link has ended (keep), not inside its hashing loop
            self._error = exc
            return None

    def keep(self, recording_uri: str) -> bool:
        """After the link: keep the templates and the pass under the stored recording's URI; False (nothing
        kept) when the link did not read the whole file for this read, or the fused read does not apply."""
        from .waveforms import keep_from_sums

        complete = self.feed.close()
        noise = self._noise_levels()
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
        if noise is not None and _same_scaling(source, self.source):
            keep_noise_levels(recording_uri, noise)
        if _shared.key_for(rec, sort) is not None:  # (the tasks then find the templates and the pass stored, at
            _answer_the_viewer(recording_uri, self.sorting_uri)  # worst: none of them reads the file again)
        return True

    def _noise_levels(self):
        """The noise levels computed beside the look, or None (not started, or failed: the task computes them
        again and reports its own error)."""
        self._pool.shutdown(wait=True)
        if self._noise is None or self._noise.exception() is not None:
            return None
        return self._noise.result()

    def abandon(self) -> None:
        """The link failed: wait for the blocks handed on, keep nothing (the link's error is the one raised)."""
        with contextlib.suppress(Exception):
            self.feed.close()
        self._pool.shutdown(wait=True)


def _same_scaling(a, b) -> bool:
    return bool(np.array_equal(a.gains, b.gains) and np.array_equal(a.offsets, b.offsets))


def _answer_the_viewer(recording_uri: str, sorting_uri: str) -> None:
    """The answers to the viewer's first requests for this recording and sorting (``W.precompute``'s:
    ``backend.precompute.requests_for``), computed here from what the link kept and stored with the task
    results, where a backend (and ``sv.run_task``) find them. A task that fails here is left to the backend,
    which reports its error to whoever asks."""
    from ..backend.precompute import requests_for
    from . import run_task_inline

    for name, task_input in requests_for(recording_uri, sorting_uri):
        try:
            run_task_inline(name, task_input)
        except Exception as exc:  # (the link itself succeeded; the backend computes and reports this one)
            logger.warning("linking %s: %s not precomputed (%s: %s)", recording_uri, name, type(exc).__name__, exc)


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
