"""Benchmark study sets, SpikeForest style: a workspace of generated ground-truth recordings.

Each SNR level gets one set of units (SpikeInterface's ``generate_drifting_recording``, seeded) recorded
twice: without drift and with a zigzag drift of +-20 um, so the two differ only by the motion. The ground truth
of each recording is marked (``ground_truth=True``); ``W.run_sorters`` and ``W.get_benchmark_table`` do the rest.
"""
from __future__ import annotations

from ..errors import WorkspaceError

DEFAULT_SNR_LEVELS = (4.0, 8.0, 16.0)
NOISE_UV = 10.0
LIMITS = {"duration": 3600.0, "num_channels": 384, "num_units": 500, "num_levels": 10}


def _check(snr_levels, drift, duration, num_channels, num_units) -> None:
    problems = []
    if not snr_levels or len(snr_levels) > LIMITS["num_levels"] or any(not 0 < s <= 100 for s in snr_levels):
        problems.append(f"snr levels must be 1 to {LIMITS['num_levels']} numbers in (0, 100], got {snr_levels}")
    if not drift:
        problems.append("choose drift, no drift or both")
    if not 1 <= duration <= LIMITS["duration"]:
        problems.append(f"duration must be 1 to {LIMITS['duration']:g} s, got {duration}")
    if not 2 <= num_channels <= LIMITS["num_channels"] or num_channels % 2:
        problems.append(f"channels must be an even number from 2 to {LIMITS['num_channels']}, got {num_channels}")
    if not 1 <= num_units <= LIMITS["num_units"]:
        problems.append(f"units must be 1 to {LIMITS['num_units']}, got {num_units}")
    if problems:
        raise WorkspaceError("cannot create the study set: " + "; ".join(problems))


def generate_pair(snr: float, *, duration: float, num_channels: int, num_units: int, sampling_frequency: float,
                  seed: int):
    """(static recording, drifting recording, ground-truth sorting) for one SNR level.

    Templates peak at about ``2 * snr * noise`` before spatial decay, so the units nearest a contact reach an
    SNR near ``snr`` and farther ones less (the table reports each unit's measured SNR).
    """
    import numpy as np
    from probeinterface import generate_multi_columns_probe
    from spikeinterface.generation import generate_drifting_recording

    probe = generate_multi_columns_probe(num_columns=2, num_contact_per_column=num_channels // 2, xpitch=20, ypitch=20)
    probe.set_device_channel_indices(np.arange(num_channels))
    amplitude = 2 * snr * NOISE_UV
    templates = {"ms_before": 1.5, "ms_after": 3.0, "mode": "ellipsoid", "unit_params": {
        "alpha": (amplitude, amplitude), "spatial_decay": (10, 45), "ellipse_shrink": (0.4, 1),
        "ellipse_angle": (0, 2 * np.pi)}}
    motion = {"displacement_sampling_frequency": 5.0, "drift_start_um": [0, 20], "drift_stop_um": [0, -20],
              "drift_step_um": 1, "motion_list": [{"drift_mode": "zigzag", "non_rigid_gradient": None,
                                                    "t_start_drift": min(2.0, duration / 4), "t_end_drift": None,
                                                    "period_s": max(2.0, duration / 2)}]}
    return generate_drifting_recording(
        num_units=num_units, duration=duration, sampling_frequency=sampling_frequency, probe=probe,
        generate_templates_kwargs=templates, generate_noise_kwargs={"noise_levels": (NOISE_UV, NOISE_UV),
                                                                    "spatial_decay": 25.0},
        generate_displacement_vector_kwargs=motion, seed=seed)


def create_benchmark(name: str, *, snr_levels=DEFAULT_SNR_LEVELS, drift=(False, True), duration: float = 30.0,
                     num_channels: int = 8, num_units: int = 8, sampling_frequency: float = 30000.0, seed: int = 0,
                     progress: bool = True):
    """A new workspace labelled ``name`` with a ground-truth recording per SNR level and drift setting."""
    from tqdm.auto import tqdm

    from ..extractors import copy_recording_extractor, copy_sorting_extractor
    from .workspace import create_workspace

    _check(tuple(snr_levels), tuple(drift), duration, num_channels, num_units)
    if _matching(name):
        raise WorkspaceError(f"a workspace labelled {name!r} exists already; choose another name")
    W = create_workspace(label=name)
    with tqdm(total=len(snr_levels) * len(drift), desc=f"benchmark {name}", disable=not progress) as bar:
        for i, snr in enumerate(snr_levels):
            static, drifting, sorting = generate_pair(snr, duration=duration, num_channels=num_channels,
                                                      num_units=num_units, sampling_frequency=sampling_frequency,
                                                      seed=seed + i)
            gt = copy_sorting_extractor(sorting)
            for moving in drift:
                rec = copy_recording_extractor(drifting if moving else static, progress=False)
                rid = W.add_recording(label=f"snr{snr:g}-{'drift' if moving else 'static'}", recording=rec)
                W.add_sorting(recording_id=rid, label="ground truth", sorting=gt, ground_truth=True)
                bar.update()
    return W


def _matching(name: str) -> list[str]:
    from .workspace import list_workspaces, parse_workspace_uri

    return [uri for uri in list_workspaces() if parse_workspace_uri(uri)[1] == name]


def find_benchmark(name_or_uri: str):
    """The workspace of a study set, by its name (the workspace label) or its URI."""
    from .workspace import URI_PREFIX, load_workspace

    if name_or_uri.startswith(URI_PREFIX):
        return load_workspace(name_or_uri)
    found = _matching(name_or_uri)
    if len(found) != 1:
        what = "no workspace is" if not found else f"{len(found)} workspaces are"
        raise WorkspaceError(f"{what} labelled {name_or_uri!r} in this store; create the study set with "
                             "`sortingview benchmark create NAME` or give its workspace URI")
    return load_workspace(found[0])


def ground_truth_recordings(W) -> list[str]:
    """The recordings of a workspace that have a ground truth."""
    return [rid for rid in W.recording_ids if W.get_ground_truth(rid) is not None]
