"""The demo's data: a seeded synthetic recording, its ground truth, and a simulated sorter output to curate.

A ground-truth sorting has nothing to curate, so the demo's main sorting is what a spike sorter typically
hands a neuroscientist, derived deterministically from the ground truth:

- one unit split in two (each spike goes to either half at random): an oversplit pair with the same
  waveform and autocorrelogram, to be merged;
- one unit contaminated with half the spikes of its nearest neighbour on the probe (multi-unit activity:
  the refractory dip of its autocorrelogram fills in and it has ISI violations); the neighbour keeps the
  other half;
- one noise unit: spikes at random times, so its average waveform is flat and its SNR the lowest;
- units missing spikes: one loses 40 % of its spikes at random, one drifts away after 50 s;
- every other unit clean.

Unit ids are 1..N in a seeded random order, unrelated to the ground-truth ids, as a sorter would number them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SEED = 2024
SETTINGS = dict(durations=[120.0], sampling_frequency=30000.0, num_channels=32, num_units=24)
NOISE_RATE_HZ = 8.0
DRIFT_OUT_S = 50.0


@dataclass
class SorterOutput:
    """The simulated sorter output: spike trains by unit id, and what each unit is (for tests and docs)."""

    trains: dict[int, np.ndarray]
    roles: dict[int, str]  # "clean", "split", "contaminated", "noise", "missing spikes"
    sources: dict[int, list[str]] = field(default_factory=dict)  # ground-truth units each unit draws from

    def units_with_role(self, role: str) -> list[int]:
        return [u for u, r in self.roles.items() if r == role]


def ground_truth(seed: int = SEED):
    """``(recording, sorting)`` of the demo, with firing rates spread from 2 to 20 Hz as in real data."""
    from spikeinterface.core import generate_ground_truth_recording

    rng = np.random.default_rng(seed)
    rates = np.clip(rng.lognormal(np.log(7.0), 0.6, SETTINGS["num_units"]), 2.0, 20.0)
    return generate_ground_truth_recording(
        seed=seed, generate_sorting_kwargs=dict(firing_rates=rates, refractory_period_ms=4.0), **SETTINGS)


def _nearest(locations: np.ndarray, i: int, exclude: set[int]) -> int:
    d = np.linalg.norm(locations[:, :2] - locations[i, :2], axis=1)
    return next(int(j) for j in np.argsort(d, kind="stable") if j != i and j not in exclude)


def _pick_roles(gt_sorting, rng: np.random.Generator) -> dict[str, int]:
    """Indices of the ground-truth units that get each defect; busy units for the split and the MUA so
    the defect shows in their correlograms."""
    counts = gt_sorting.count_num_spikes_per_unit(outputs="array")
    busiest = [int(i) for i in np.argsort(-counts, kind="stable")[:6]]
    split, mua = (int(i) for i in rng.choice(busiest, 2, replace=False))
    neighbour = _nearest(gt_sorting.get_property("gt_unit_locations"), mua, {split})
    rest = [i for i in rng.permutation(len(counts)).tolist() if i not in (split, mua, neighbour)]
    return {"split": split, "mua": mua, "neighbour": neighbour, "dropped": rest[0], "drifted": rest[1]}


def simulated_sorter_output(gt_sorting, seed: int = SEED) -> SorterOutput:
    """The demo's sorter output, built from ``gt_sorting`` (the same every time for one seed)."""
    rng = np.random.default_rng(seed + 1)
    ids = list(gt_sorting.unit_ids)
    train = {i: gt_sorting.get_unit_spike_train(ids[i]) for i in range(len(ids))}
    pick = _pick_roles(gt_sorting, rng)
    clusters: list[tuple[str, np.ndarray, list[int]]] = []

    halves = rng.random(len(train[pick["split"]])) < 0.5
    clusters += [("split", train[pick["split"]][halves], [pick["split"]]),
                 ("split", train[pick["split"]][~halves], [pick["split"]])]
    stolen = rng.random(len(train[pick["neighbour"]])) < 0.5
    clusters += [("contaminated", np.union1d(train[pick["mua"]], train[pick["neighbour"]][stolen]),
                  [pick["mua"], pick["neighbour"]]),
                 ("missing spikes", train[pick["neighbour"]][~stolen], [pick["neighbour"]])]
    kept = rng.random(len(train[pick["dropped"]])) >= 0.4
    clusters.append(("missing spikes", train[pick["dropped"]][kept], [pick["dropped"]]))
    fs = gt_sorting.get_sampling_frequency()
    drifted = train[pick["drifted"]]
    clusters.append(("missing spikes", drifted[drifted < DRIFT_OUT_S * fs], [pick["drifted"]]))
    clusters += [("clean", train[i], [i]) for i in range(len(ids)) if i not in pick.values()]
    num_frames = int(SETTINGS["durations"][0] * fs)
    noise = np.unique(rng.integers(0, num_frames, int(NOISE_RATE_HZ * SETTINGS["durations"][0])))
    clusters.append(("noise", noise, []))

    order = rng.permutation(len(clusters))  # sorter ids say nothing about the ground truth
    out = SorterOutput(trains={}, roles={})
    for unit_id, k in enumerate(order.tolist(), start=1):
        role, frames, sources = clusters[k]
        out.trains[unit_id] = np.asarray(frames, dtype=np.int64)
        out.roles[unit_id] = role
        out.sources[unit_id] = [str(ids[i]) for i in sources]
    return out


def as_sorting(output: SorterOutput, sampling_frequency: float):
    """The sorter output as a spikeinterface sorting (unit ids 1..N, one segment)."""
    from spikeinterface.core import NumpySorting

    return NumpySorting.from_unit_dict([{u: output.trains[u] for u in sorted(output.trains)}], sampling_frequency)


def ground_truth_accuracy(gt_sorting, sorting) -> list[dict]:
    """External unit metrics of ``sorting``: the accuracy of each unit against its best-matching ground-truth
    unit and that unit's id (``spikeinterface.comparison`` matches spikes within 0.4 ms)."""
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    comp = compare_sorter_to_ground_truth(gt_sorting, sorting, exhaustive_gt=True)
    scores = comp.agreement_scores  # ground-truth units x sorted units: matches / (n1 + n2 - matches)
    accuracy, best = {}, {}
    for u in sorting.unit_ids:
        column = scores[u]
        key = str(u.item() if hasattr(u, "item") else u)
        accuracy[key] = round(float(column.max()), 3)
        best[key] = str(column.idxmax()) if column.max() > 0.05 else None
    return [
        {"name": "gtAccuracy", "label": "GT accuracy", "data": accuracy,
         "tooltip": "Agreement with the best-matching ground-truth unit: matched spikes / (spikes of both - "
                    "matched), computed with spikeinterface.comparison"},
        {"name": "gtUnit", "label": "GT unit", "data": best,
         "tooltip": "The ground-truth unit this unit agrees with most (none below 0.05)"},
    ]
