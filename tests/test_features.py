"""unit_features (PCA) and pair_features: exact against dense numpy decompositions, on seeded data."""
from __future__ import annotations

import numpy as np
import pytest
from test_waveforms import AFTER, BEFORE, brute_force_snippets, dataset_in_own_store, run

from sortingview.compute.features import pair_features, pca_features, principal_components
from sortingview.errors import TaskInputError
from sortingview.tasks._reading import trace_source
from sortingview.tasks.waveforms import selected_frames


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    yield from dataset_in_own_store(tmp_path_factory, "features")


def _svd_axes(x, k):
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    axes = vt[:k].T
    return axes * np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(k)])


@pytest.mark.parametrize("n,d", [(500, 630), (40, 90), (300, 20)])
def test_principal_axes_equal_a_dense_svd(n, d):
    rng = np.random.default_rng(n + d)
    x = rng.standard_normal((n, 6)) * [40, 25, 12, 6, 3, 2] @ rng.standard_normal((6, d)) / 5
    x += rng.standard_normal((n, d))
    x -= x.mean(axis=0)
    np.testing.assert_allclose(principal_components(x, 3), _svd_axes(x, 3), atol=1e-5)


def test_pca_features_are_projections_with_decreasing_variance():
    rng = np.random.default_rng(3)
    snippets = rng.standard_normal((400, 30, 4)) * np.linspace(1, 5, 120).reshape(1, 30, 4)
    feats = pca_features(snippets, 3)
    x = snippets.reshape(400, -1) - snippets.reshape(400, -1).mean(axis=0)
    np.testing.assert_allclose(feats, x @ _svd_axes(x, 3), rtol=1e-4, atol=1e-3)
    var = feats.var(axis=0)
    assert var[0] >= var[1] >= var[2] > 0


def test_pair_features_follow_the_definition():
    rng = np.random.default_rng(5)
    direction = rng.standard_normal(50)
    a = rng.standard_normal((200, 10, 5)) + direction.reshape(10, 5)
    b = rng.standard_normal((150, 10, 5)) - direction.reshape(10, 5)
    x, y = pair_features(a, b)
    ra, rb = a.reshape(200, -1), b.reshape(150, -1)
    d = ra.mean(0) - rb.mean(0)
    d /= np.linalg.norm(d)
    rows = np.concatenate([ra, rb]) - (ra.mean(0) + rb.mean(0)) / 2
    np.testing.assert_allclose(x, rows @ d, rtol=1e-4, atol=1e-4)
    resid = rows - np.outer(rows @ d, d)
    resid -= resid.mean(0)
    np.testing.assert_allclose(y, resid @ _svd_axes(resid, 1)[:, 0], rtol=1e-4, atol=1e-4)
    assert x[:200].min() > 0 > x[200:].max()  # the two clusters separate along x


def test_unit_features_task(ds):
    u = ds.unit_ids[1]
    res = run("sortingview.unit_features.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=u,
              maxSpikesPerUnit=200)
    source = trace_source(ds.recording)
    frames = selected_frames(ds.sorting, u, source, BEFORE, AFTER, 200)
    np.testing.assert_allclose(res["timesSec"], frames / ds.sampling_frequency)
    assert res["features"].shape == (200, 3)
    wf = run("sortingview.average_waveforms.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitIds=[u])
    ids = list(ds.recording.get_channel_ids())
    chans = [ids.index(c) for c in wf["averageWaveforms"][0]["channelIds"]]
    snips = brute_force_snippets(ds.recording, frames)[:, :, chans]
    x = snips.reshape(200, -1) - snips.reshape(200, -1).mean(axis=0)
    np.testing.assert_allclose(res["features"], x @ _svd_axes(x, 3), rtol=1e-3, atol=2e-2)
    five = run("sortingview.unit_features.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId=u,
               maxSpikesPerUnit=200, numComponents=5)
    np.testing.assert_allclose(five["features"][:, :3], res["features"], atol=2e-2)


def test_pair_features_task_separates_two_units_and_labels_them(ds):
    u1, u2 = ds.unit_ids[0], ds.unit_ids[5]
    res = run("sortingview.pair_features.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId1=u1,
              unitId2=u2, maxSpikesPerUnit=150)
    n1, n2 = min(150, ds.spike_counts[u1]), min(150, ds.spike_counts[u2])
    assert res["labels"].tolist() == [1] * n1 + [2] * n2
    assert len(res["x"]) == len(res["y"]) == len(res["timesSec"]) == n1 + n2
    # different neurons: unit 1 at positive x, unit 2 at negative x, with little overlap
    assert np.median(res["x"][:n1]) > 0 > np.median(res["x"][n1:])
    assert np.mean(res["x"][:n1] > 0) > 0.9 and np.mean(res["x"][n1:] < 0) > 0.9
    assert len(res["channelIds"]) >= 7


def test_pair_features_of_a_merge_group_and_a_unit(ds):
    u1, u2, u3 = ds.unit_ids[:3]
    res = run("sortingview.pair_features.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
              unitId1=[u1, u2], unitId2=u3, maxSpikesPerUnit=100)
    assert res["unitId1"] == [u1, u2] and res["labels"].tolist() == [1] * 100 + [2] * 100


def test_bad_feature_inputs(ds):
    with pytest.raises(TaskInputError, match="numComponents"):
        run("sortingview.unit_features.1", recording=ds.recording_uri, sorting=ds.sorting_uri,
            unitId=ds.unit_ids[0], numComponents=0)
    with pytest.raises(TaskInputError, match="needs input field 'unitId2'"):
        run("sortingview.pair_features.1", recording=ds.recording_uri, sorting=ds.sorting_uri, unitId1=ds.unit_ids[0])
