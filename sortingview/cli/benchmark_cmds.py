"""``sortingview benchmark``: ground-truth study sets, sorted through the backend (doc/sorting.md)."""
from __future__ import annotations

import click

from . import main
from ._common import friendly_errors
from .sort_cmds import backend_options, parse_sorter_option


@main.group("benchmark")
def benchmark() -> None:
    """SpikeForest-style benchmarks: generated ground-truth recordings, sorters, accuracy tables."""


def _numbers(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers, e.g. 4,8,16") from None


@benchmark.command("create")
@click.argument("name")
@click.option("--snr", default="4,8,16", show_default=True, help="SNR levels, comma-separated.")
@click.option("--drift", type=click.Choice(["both", "yes", "no"]), default="both", show_default=True,
              help="Recordings with drift (+-20 um zigzag), without, or both.")
@click.option("--duration", type=float, default=30.0, show_default=True, help="Seconds per recording.")
@click.option("--channels", type=int, default=8, show_default=True, help="Contacts (an even number; 2 columns).")
@click.option("--units", type=int, default=8, show_default=True, help="Ground-truth units per recording.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generators.")
@friendly_errors
def create(name: str, snr: str, drift: str, duration: float, channels: int, units: int, seed: int) -> None:
    """Generate the study set NAME: a workspace labelled NAME, one recording per SNR level and drift setting,
    each with its ground truth marked. Prints the workspace URI."""
    from ..workspace.benchmark_sets import create_benchmark

    drifts = {"both": (False, True), "yes": (True,), "no": (False,)}[drift]
    W = create_benchmark(name, snr_levels=_numbers(snr), drift=drifts, duration=duration, num_channels=channels,
                         num_units=units, seed=seed)
    click.echo(W.uri)


@benchmark.command("run")
@click.argument("name")
@click.option("--sorter", "sorters", multiple=True, required=True, help="NAME or NAME:params.json (repeatable).")
@click.option("--timeout", type=float, default=None, help="Seconds to wait for each run (default: no limit).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@backend_options
@friendly_errors
def run(name: str, sorters: tuple[str, ...], timeout: float | None, no_progress: bool, channel: str | None,
        backend_id: str | None) -> None:
    """Sort every recording of the study set NAME (or a workspace URI) with each sorter through the backend,
    then print the benchmark table. Runs done before come from the cache."""
    from ..workspace.benchmark_sets import find_benchmark, ground_truth_recordings

    W = find_benchmark(name)
    W.run_sorters(recording_ids=ground_truth_recordings(W), sorters=[parse_sorter_option(s) for s in sorters],
                  progress=not no_progress, timeout=timeout, channel=channel, backend_id=backend_id)
    click.echo(W.get_benchmark_table().to_string(index=False))


@benchmark.command("table")
@click.argument("name")
@click.option("--min-snr", type=float, default=None, help="Count only ground-truth units with at least this SNR.")
@click.option("--well-detected", type=float, default=0.8, show_default=True,
              help="Accuracy from which a unit counts as well detected.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a text table.")
@friendly_errors
def table(name: str, min_snr: float | None, well_detected: float, as_csv: bool) -> None:
    """Print the benchmark table of NAME: per sorter and recording, mean accuracy, precision and recall and the
    number of well-detected units."""
    from ..workspace.benchmark_sets import find_benchmark

    df = find_benchmark(name).get_benchmark_table(well_detected=well_detected, min_snr=min_snr)
    click.echo(df.to_csv(index=False) if as_csv else df.to_string(index=False))
