"""PCA features of snippets, and the discriminating features of a pair of units.

Snippets arrive as (n, frames, channels) arrays and are flattened to n x (frames * channels) rows.

The principal components are the leading eigenvectors of the centred rows' covariance. For small problems
they come from a dense decomposition; for the usual 500 x 630 problem from subspace iteration on ``x^T x`` in
float32 (half the memory traffic). Every step gives the Rayleigh-Ritz vectors of the current subspace and their
residuals for the cost of a few q x q products, so the iteration stops at the first step whose residuals are
all below ``tol`` (relative to the largest eigenvalue); a float64 Rayleigh-Ritz step on that subspace then
confirms them, so the result is the exact decomposition to that tolerance, not a randomized approximation.
Where float32 rounding stalls above the tolerance the iteration goes on in float64, and if it does not
converge a dense float64 decomposition finishes the job. Only a handful of components are wanted, so this is
several times faster than a full decomposition.

Signs are fixed so results are reproducible: each component is flipped so its largest-magnitude loading is
positive.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

_DENSE_LIMIT = 64  # below this many rows or columns a dense decomposition is cheapest
_STALL_BELOW = 1e-4  # a float32 residual that no longer halves per step below this has met float32's rounding


class _SingleThreadBlas:
    """Context in which BLAS runs on one thread: the products here are small (n x d times d x ~11), and
    OpenBLAS threads spinning over them make them several times slower, not faster.

    Counted, so that threads working on different units at once share one limit: the first to enter sets
    it, the last to leave restores the previous setting (threadpoolctl's limit is process-wide).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._limit = None

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                controller = _blas_controller()
                self._limit = None if controller is None else controller.limit(limits=1, user_api="blas")
            self._depth += 1

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._limit is not None:
                self._limit.restore_original_limits()
                self._limit = None


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with spikeinterface
        return None
    return ThreadpoolController()


single_thread_blas = _SingleThreadBlas()


def _flip_signs(components: np.ndarray) -> np.ndarray:
    idx = np.argmax(np.abs(components), axis=0)
    signs = np.sign(components[idx, np.arange(components.shape[1])])
    signs[signs == 0] = 1.0
    return components * signs


def _dense_components(x: np.ndarray, k: int) -> np.ndarray:
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return vt[:k].T


def principal_components(x: np.ndarray, k: int, *, tol: float = 1e-6, max_iter: int = 200,
                         seed: int = 0) -> np.ndarray:
    """The ``k`` leading principal axes (columns, d x k) of the rows of ``x`` (n x d), which must be centred."""
    with single_thread_blas:
        return _principal_components(np.asarray(x, dtype=np.float64), k, tol, max_iter, seed)


def _principal_components(x: np.ndarray, k: int, tol: float, max_iter: int, seed: int) -> np.ndarray:
    n, d = x.shape
    k = min(k, n, d)
    if k == 0:
        return np.zeros((d, 0))
    if min(n, d) <= _DENSE_LIMIT:
        return _flip_signs(_dense_components(x, k))
    q = min(k + 8, n, d)
    a = x.astype(np.float32)  # the iteration runs in float32 (half the memory traffic) while float32 suffices
    basis, _ = np.linalg.qr(a.T @ np.random.default_rng(seed).standard_normal((n, q)).astype(np.float32))
    previous = np.inf
    for _ in range(max_iter):
        image = a.T @ (a @ basis)  # (x^T x) basis: one step of the iteration
        residual = _ritz(basis, image, k)[1]
        if residual <= tol:  # the float32 Ritz vectors look converged: confirm (and refine) in float64
            v, residual64 = _ritz(*_orthonormal_image(x, basis), k)
            if residual64 <= tol:
                return _flip_signs(v)
        if a.dtype == np.float32 and _STALL_BELOW > residual > previous / 2:  # float32 rounding: go on in float64
            a, image = x, x.T @ (x @ basis.astype(np.float64))
        previous = residual
        basis, _ = np.linalg.qr(image)
    # no convergence (a nearly degenerate spectrum): finish densely in float64
    return _flip_signs(_dense_components(x, k))


def _orthonormal_image(x: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``basis`` made orthonormal in float64, and ``x^T x`` times it."""
    basis, _ = np.linalg.qr(basis.astype(np.float64))
    return basis, x.T @ (x @ basis)


def _ritz(basis: np.ndarray, image: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Rayleigh-Ritz on span(basis) (orthonormal columns) from ``image = x^T x basis``: the ``k`` leading Ritz
    vectors, and the largest of their residuals ``|x^T x v - lambda v|`` relative to the largest Ritz value."""
    h = basis.T @ image
    values, w = np.linalg.eigh((h + h.T) / 2)
    values, w = values[::-1][:k], w[:, ::-1][:, :k]
    v = basis @ w
    residual = np.linalg.norm(image @ w - v * values, axis=0)
    return v, float(residual.max() / values[0]) if values[0] > 0 else 0.0


def pca_features(snippets: np.ndarray, num_components: int) -> np.ndarray:
    """Projections (n x num_components) of each snippet on the leading principal axes of the snippets."""
    n = snippets.shape[0]
    x = snippets.reshape(n, -1).astype(np.float64)
    if n == 0:
        return np.zeros((0, num_components), np.float32)
    x -= x.mean(axis=0)
    axes = principal_components(x, num_components)
    out = np.zeros((n, num_components), np.float32)
    out[:, :axes.shape[1]] = x @ axes
    return out


def pair_features(snippets1: np.ndarray, snippets2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the snippets of unit 1 followed by unit 2, as in the original sortingview pair view.

    x is the projection on the unit vector from the mean of unit 2 to the mean of unit 1, measured from the
    midpoint of the two means (so unit 1 lies at positive x). y is the projection of what x leaves
    unexplained (each snippet minus its x component) on the leading principal axis of that residual.
    """
    a = snippets1.reshape(snippets1.shape[0], -1).astype(np.float64)
    b = snippets2.reshape(snippets2.shape[0], -1).astype(np.float64)
    rows = np.concatenate([a, b])
    if len(a) == 0 or len(b) == 0:
        raise ValueError("pair features need at least one snippet of each unit")
    ma, mb = a.mean(axis=0), b.mean(axis=0)
    direction = ma - mb
    norm = np.linalg.norm(direction)
    centred = rows - (ma + mb) / 2
    if norm == 0:
        x = np.zeros(len(rows))
        residual = centred
    else:
        direction /= norm
        x = centred @ direction
        residual = centred - np.outer(x, direction)
    residual -= residual.mean(axis=0)
    axis = principal_components(residual, 1)
    y = residual @ axis[:, 0] if axis.shape[1] else np.zeros(len(rows))
    return x.astype(np.float32), y.astype(np.float32)
