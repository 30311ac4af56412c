"""Assemble and store a figure: each view's data as JSON in the store, then the ``MainLayout`` root.

The data of a view is its ``to_dict()`` with numpy arrays in the figurl array encoding
(``{"_type": "ndarray", "shape", "dtype", "data_gzip_b64" | "data_b64"}``, see sortingview.serialize): float
arrays uncompressed (``data_b64``), other arrays zlib-compressed when large enough to gain.
As figurl did, float64 arrays are refused unless ``allow_float64=True``: they double the size of a figure
for precision a plot does not show.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Dict, List

import numpy as np

from .. import store
from ..errors import SerializationError
from ..serialize import encode_array, store_json_bytes

if TYPE_CHECKING:
    from .view import View

#: figurl refused figures above 500 MB; one view above this is too big for a browser to load
MAX_VIEW_BYTES = 500 * 1000 * 1000

FLOAT64_MESSAGE = ("Unable to serialize numpy array with dtype float64. It is usually best to convert to float32, "
                   "but if you need 64-bit, then use allow_float64=True.")


def encode_figure_value(obj: Any, *, allow_float64: bool = False, where: str = "$") -> Any:
    """``obj`` made JSON-able for a figure: arrays encoded, numpy scalars to numbers, NaN/inf scalars to None."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == np.float64 and not allow_float64:
            raise SerializationError(f"{FLOAT64_MESSAGE} (at {where})")
        try:
            # measured floats barely compress (~12% on spike times and amplitudes) while zlib was 70% of url()'s
            # time, so float arrays go as data_b64; integers (counts, ids) compress well and go as data_gzip_b64
            return encode_array(obj, compress=False if obj.dtype.kind == "f" else None)
        except SerializationError as exc:
            raise SerializationError(f"{exc} (at {where})") from None
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, dict):
        return {str(k): encode_figure_value(v, allow_float64=allow_float64, where=f"{where}.{k}")
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode_figure_value(v, allow_float64=allow_float64, where=f"{where}[{i}]") for i, v in enumerate(obj)]
    raise SerializationError(f"a figure cannot hold a value of type {type(obj).__name__} (at {where}); use "
                             "numbers, strings, lists, dicts and numpy arrays")


def number_views(root: "View") -> List["View"]:
    """Every distinct view of the figure in descendant order, each given the id "0", "1", ... (deterministic)."""
    seen: Dict[int, "View"] = {}
    for view in root.get_descendant_views_including_self():
        if id(view) not in seen:
            seen[id(view)] = view
    views = list(seen.values())
    for i, view in enumerate(views):
        view.set_id(str(i))
    return views


def store_view_data(view: "View", *, allow_float64: bool) -> str:
    """Store one view's data; returns ``sha1://<hash>``."""
    data = store_json_bytes(encode_figure_value(view.to_dict(), allow_float64=allow_float64, where=view.type))
    if len(data) > MAX_VIEW_BYTES:
        raise SerializationError(f"the data of view {view.id} ({view.type}) is too large ({len(data)} > "
                                 f"{MAX_VIEW_BYTES} bytes); subsample it (e.g. fewer spikes or units per view)")
    return store.store_bytes(data).split("?")[0]


def figure_root(root: "View", *, allow_float64: bool = False) -> dict:
    """The ``MainLayout`` root of a figure whose top is the layout ``root`` (stores each view's data)."""
    views = number_views(root)
    entries = [{"type": v.type, "viewId": v.id, "dataUri": store_view_data(v, allow_float64=allow_float64)}
               for v in views if not v.is_layout]
    layout = encode_figure_value(root.to_dict(), allow_float64=allow_float64, where="layout")
    return {"type": "MainLayout", "layout": layout, "views": entries}


def store_figure(root: "View", *, allow_float64: bool = False) -> str:
    """Store the figure of the layout ``root`` and return the ``sha1://<hash>`` of its root."""
    return store.store_json(figure_root(root, allow_float64=allow_float64)).split("?")[0]
