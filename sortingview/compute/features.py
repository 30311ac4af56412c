"""PCA features of snippets, and the discriminating features of a pair of units.

Snippets arrive as (n, frames, channels) arrays and are flattened to n x (frames * channels) rows.

The principal components are the leading eigenvectors of the centred rows' covariance. For small problems
they come from a dense decomposition; for the usual 500 x 630 problem from a block Krylov iteration on
``x^T x`` in float32 (half the memory traffic): each step multiplies one block of 8 columns by ``x^T x``, and a
Rayleigh-Ritz step over the whole Krylov space (at most 40 columns, then it restarts from its leading Ritz
vectors) gives the Ritz vectors and their residuals from products already made. The iteration stops at the
first step whose residuals are all below ``tol`` (relative to the largest eigenvalue); a float64 Rayleigh-Ritz
step on those vectors then confirms them, so the result is the exact decomposition to that tolerance, not a
randomized approximation. Where float32 rounding stalls above the tolerance the iteration goes on in
float64, and if it does not converge a dense float64 decomposition finishes the job. Only a handful of
components are wanted, so this is several times faster than a full decomposition.

Signs are fixed so results are reproducible: each component is flipped so its largest-magnitude loading is
positive.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

_DENSE_LIMIT = 64  # below this many rows or columns a dense decomposition is cheapest
_EXTRA = 5  # the block has this many columns more than the wanted components (3 + 5: 8, a fast width for BLAS)
_KRYLOV_COLUMNS = 40  # the Krylov space restarts from its leading Ritz vectors beyond this many columns
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


def _signs(components: np.ndarray) -> np.ndarray:
    """+-1 per column, so that each column's largest-magnitude loading is positive."""
    idx = np.argmax(np.abs(components), axis=0)
    signs = np.sign(components[idx, np.arange(components.shape[1])])
    signs[signs == 0] = 1.0
    return signs


def _dense_components(x: np.ndarray, k: int) -> np.ndarray:
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return vt[:k].T


def principal_components(x: np.ndarray, k: int, *, tol: float = 1e-6, max_iter: int = 200,
                         seed: int = 0) -> np.ndarray:
    """The ``k`` leading principal axes (columns, d x k) of the rows of ``x`` (n x d), which must be centred."""
    return principal_axes_and_projections(x, k, tol=tol, max_iter=max_iter, seed=seed)[0]


def principal_axes_and_projections(x: np.ndarray, k: int, *, tol: float = 1e-6, max_iter: int = 200,
                                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`principal_components` and the rows' projections on them (n x k, float64), which the iteration's
    float64 confirmation has already computed."""
    with single_thread_blas:
        return _principal_components(np.asarray(x, dtype=np.float64), k, tol, max_iter, seed)


def _principal_components(x: np.ndarray, k: int, tol: float, max_iter: int,
                          seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The axes (d x k, signs fixed) and the rows' projections on them (n x k, float64)."""
    n, d = x.shape
    k = min(k, n, d)
    if k == 0:
        return np.zeros((d, 0)), np.zeros((n, 0))
    if min(n, d) > max(_DENSE_LIMIT, 2 * (k + _EXTRA)):  # (a Krylov space needs room for two blocks)
        found = _iterate(x, k, tol, max_iter, seed)
        if found is not None:
            axes, projections = found
            signs = _signs(axes)
            return axes * signs, projections * signs
    # small, or no convergence (a nearly degenerate spectrum): a dense decomposition in float64
    axes = _dense_components(x, k)
    axes *= _signs(axes)
    return axes, x @ axes


def _iterate(x: np.ndarray, k: int, tol: float, max_iter: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Block Krylov iteration on ``x^T x``: the axes and projections once the residuals are below ``tol``."""
    n, d = x.shape
    q = min(k + _EXTRA, n, d)
    a = x.astype(np.float32)  # the iteration runs in float32 (half the memory traffic) while float32 suffices
    block, _ = np.linalg.qr(a.T @ np.random.default_rng(seed).standard_normal((n, q)).astype(np.float32))
    space, images, previous = [], [], np.inf
    for _ in range(max_iter):
        space.append(block)
        images.append(a.T @ (a @ block))  # (x^T x) block: the one product of a step
        basis, image = np.hstack(space), np.hstack(images)
        w, residual = _ritz(basis, image, k)
        if residual <= tol:  # the Ritz vectors look converged: confirm (and refine) them in float64
            v, _ = np.linalg.qr((basis @ w[:, :k]).astype(np.float64))
            projections = x @ v
            w64, residual64 = _ritz(v, x.T @ projections, k)
            if residual64 <= tol:
                return v @ w64, projections @ w64
        stalled = a.dtype == np.float32 and _STALL_BELOW > residual > previous / 2
        previous = residual
        if stalled:  # float32 rounding: go on in float64 from the leading Ritz vectors
            a = x
            block, _ = np.linalg.qr((basis @ w[:, :q]).astype(np.float64))
            space, images = [], []
            continue
        if basis.shape[1] + q > min(_KRYLOV_COLUMNS, n, d):  # restart from the leading Ritz vectors
            space, images = [basis @ w[:, :q]], [image @ w[:, :q]]
            basis, image = space[0], images[0]
        block = images[-1]
        for _ in range(2):  # orthogonal to the space (twice: one pass loses orthogonality in float32)
            block = block - basis @ (basis.T @ block)
        block, _ = np.linalg.qr(block)
    return None


def _ritz(basis: np.ndarray, image: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Rayleigh-Ritz on span(basis) (orthonormal columns) from ``image = x^T x basis``: the rotation ``w`` from
    ``basis`` to all Ritz vectors ``basis @ w`` (leading first), and the largest residual
    ``|x^T x v - lambda v|`` of the ``k`` leading ones, relative to the largest Ritz value."""
    h = basis.T @ image
    values, w = np.linalg.eigh((h + h.T) / 2)
    values, w = values[::-1], w[:, ::-1]
    residual = np.linalg.norm(image @ w[:, :k] - basis @ w[:, :k] * values[:k], axis=0)
    return w, float(residual.max() / values[0]) if values[0] > 0 else 0.0


def pca_features(snippets: np.ndarray, num_components: int) -> np.ndarray:
    """Projections (n x num_components) of each snippet on the leading principal axes of the snippets."""
    n = snippets.shape[0]
    out = np.zeros((n, num_components), np.float32)
    if n == 0:
        return out
    rows = snippets.reshape(n, -1)
    x = np.subtract(rows, rows.mean(axis=0, dtype=np.float64), dtype=np.float64)
    projections = principal_axes_and_projections(x, num_components)[1]
    out[:, :projections.shape[1]] = projections
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
