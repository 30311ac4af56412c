"""The PCA kernel's iteration against dense references: spike-like snippets, tolerances float32 cannot reach,
and spectra where it cannot converge."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from sortingview.compute.features import pca_features, principal_components


def _spike_like(seed: int, n: int = 500, frames: int = 90, channels: int = 7) -> np.ndarray:
    """Snippets of a unit as the tasks gather them: a template scaled per spike, two overlapping neighbours
    at random offsets in some spikes, and noise correlated in time."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None]
    shape = lambda centre, width: np.exp(-((t - centre) / width) ** 2)  # noqa: E731
    template = -80 * shape(30, 3) * rng.uniform(0.2, 1, channels) + 25 * shape(40, 8) * rng.uniform(0, 1, channels)
    snippets = rng.normal(1, 0.15, (n, 1, 1)) * template
    for _ in range(2):
        other = -40 * shape(rng.integers(0, frames), 3) * rng.uniform(0, 1, channels)
        snippets += (rng.random((n, 1, 1)) < 0.2) * other
    noise = rng.standard_normal((n, frames + 4, channels)) * 6
    return (snippets + (noise[:, 4:] + noise[:, :-4]) / 2).astype(np.float32)


def _relative_residuals(x: np.ndarray, axes: np.ndarray) -> np.ndarray:
    image = x.T @ (x @ axes)
    values = np.einsum("ij,ij->j", axes, image)
    return np.linalg.norm(image - axes * values, axis=0) / np.linalg.norm(x, 2) ** 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_of_spike_like_snippets_equal_sklearn_pca_up_to_sign(seed):
    snippets = _spike_like(seed)
    ours = pca_features(snippets, 3)
    theirs = PCA(n_components=3, svd_solver="full").fit_transform(snippets.reshape(len(snippets), -1).astype(float))
    signs = np.sign(np.sum(ours * theirs, axis=0))
    assert np.all(signs != 0)
    scale = np.abs(theirs).max(axis=0)
    assert np.all(np.abs(ours - theirs * signs).max(axis=0) <= 1e-4 * scale)
    assert ours.dtype == np.float32 and ours.shape == (500, 3)


@pytest.mark.parametrize("tol", [1e-6, 1e-9])
def test_axes_meet_the_tolerance_even_below_float32_rounding(tol):
    snippets = _spike_like(7).reshape(500, -1).astype(np.float64)
    x = snippets - snippets.mean(axis=0)
    axes = principal_components(x, 4, tol=tol)
    assert axes.shape == (630, 4)
    np.testing.assert_allclose(axes.T @ axes, np.eye(4), atol=1e-9)
    assert np.all(_relative_residuals(x, axes) <= tol * 1.01)
    values = np.einsum("ij,ij->j", axes, x.T @ (x @ axes))
    assert np.all(np.diff(values) <= 0)  # in decreasing order of variance
    exact = np.linalg.svd(x, compute_uv=False)[:4] ** 2
    np.testing.assert_allclose(values, exact, rtol=0, atol=tol * exact[0])  # |error| <= residual (symmetric)


def test_a_degenerate_spectrum_gives_axes_of_the_right_eigenspaces():
    """Eigenvalues 3 and 4 equal: any orthonormal pair of that plane is right, and the result must lie in it."""
    rng = np.random.default_rng(11)
    basis, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    centred = rng.standard_normal((300, 200))
    scores, _ = np.linalg.qr(centred - centred.mean(axis=0))  # columns of zero mean: x is centred as it is
    singular = np.concatenate([[50, 30, 20, 20], np.linspace(5, 1, 196)])
    x = scores * singular @ basis.T
    axes = principal_components(x, 3)
    np.testing.assert_allclose(np.abs(axes[:, :2].T @ basis[:, :2]), np.eye(2), atol=1e-6)
    in_plane = basis[:, 2:4].T @ axes[:, 2]
    np.testing.assert_allclose(np.linalg.norm(in_plane), 1, atol=1e-6)


def test_no_convergence_within_max_iter_still_returns_the_exact_axes():
    x = _spike_like(3).reshape(500, -1).astype(np.float64)
    x -= x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    axes = principal_components(x, 3, max_iter=1)  # stops before converging: the dense decomposition answers
    np.testing.assert_allclose(np.abs(np.sum(axes * vt[:3].T, axis=0)), 1, atol=1e-12)


@pytest.mark.parametrize("k", [20, 60])
def test_many_components_equal_a_dense_svd(k):
    rng = np.random.default_rng(k)
    x = rng.standard_normal((300, 70)) * np.linspace(10, 1, 70)
    x -= x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    axes = principal_components(x, k)
    assert axes.shape == (70, k)
    np.testing.assert_allclose(np.abs(np.sum(axes * vt[:k].T, axis=0)), 1, atol=1e-6)
