"""Messages that name a type use the right article: "an InjectTemplatesRecording", "a BinaryRecordingExtractor"."""
from __future__ import annotations

import pytest

from sortingview.errors import UnsupportedExtractorError, with_article


@pytest.mark.parametrize("word, expected", [
    ("InjectTemplatesRecording", "an InjectTemplatesRecording"),
    ("BinaryRecordingExtractor", "a BinaryRecordingExtractor"),
    ("int", "an int"), ("dict", "a dict"), ("str", "a str"), ("object", "an object"),
    ("NWB file", "an NWB file"), ("MDA sorting", "an MDA sorting"),
    ("unit", "a unit"), ("user id", "a user id"), ("UnitsAggregationSorting", "a UnitsAggregationSorting"),
    ("AverageAcrossDirectionRecording", "an AverageAcrossDirectionRecording"),
])
def test_the_article_follows_the_sound(word, expected):
    assert with_article(word) == expected


def test_storing_an_unsupported_recording_names_it_with_an(store_dir):
    from spikeinterface.core import generate_ground_truth_recording

    from sortingview.extractors import recording_to_object

    recording, _ = generate_ground_truth_recording(durations=[1.0], num_channels=2, num_units=2, seed=1)
    assert type(recording).__name__ == "InjectTemplatesRecording"
    with pytest.raises(UnsupportedExtractorError) as info:
        recording_to_object(recording)
    assert str(info.value).startswith("an InjectTemplatesRecording cannot be stored as an object")


def test_a_wrong_field_type_in_a_request_says_an_int():
    from sortingview.server.http import ApiError, field

    with pytest.raises(ApiError, match="field 'n' must be an int, got str"):
        field({"n": "3"}, "n", int)
    with pytest.raises(ApiError, match="field 'taskInput' must be a dict, got list"):
        field({"taskInput": []}, "taskInput", dict)


def test_a_missing_package_is_a_one_line_error_that_says_how_to_install_it():
    import click
    from click.testing import CliRunner

    from sortingview.cli._common import friendly_errors

    @click.command()
    @friendly_errors
    def needs_pandas():
        raise ModuleNotFoundError("No module named 'pandas'", name="pandas")

    r = CliRunner().invoke(needs_pandas, [])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "Error: No module named 'pandas': install it with `pip install pandas`" in r.output
