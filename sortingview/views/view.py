"""``View``: the base of every view and layout, and the link of a figure (``url`` / ``url_dict``).

A figure is stored as the original sortingview 0.14 stored it: each non-layout view's ``to_dict()`` becomes
one JSON object in the store (numpy arrays in the figurl array encoding), and the figure root is
``{"type": "MainLayout", "layout": <root layout's to_dict()>, "views": [{"type", "viewId", "dataUri"}]}``.
Before the root is built, every view of the figure gets the id ``"0"``, ``"1"``, ... in descendant order,
so the same figure always gives the same bytes, hence the same ``sha1://`` URI and the same link.
"""
from __future__ import annotations

import itertools
import json
from copy import deepcopy
from typing import Any, List, Union
from urllib.parse import quote

from ..errors import SerializationError, SortingviewError

#: the viewer id of views figures in a link (``/f?v=<this>``)
VIEWS_FIGURE_TYPE = "sortingview-views-1"

_ids = itertools.count()


class ViewError(SortingviewError, ValueError):
    """A view was built with arguments it cannot show (the message names the argument)."""


class View:
    """Base class of every view and layout.

    Parameters
    ----------
    view_type : the ``type`` of the view's data (which viewer module draws it)
    is_layout : True for layouts (their ``to_dict()`` is inlined into the figure root, not stored apart)
    height : kept for compatibility with 0.14 (the Jupyter height); unused
    """

    def __init__(self, view_type: str, *, is_layout: bool = False, height: int = 500) -> None:
        self.type = view_type
        # a process-local id until a figure is assembled (url_dict numbers the views "0", "1", ...)
        self.id = f"v{next(_ids)}"
        self.is_layout = is_layout
        self._height = height
        self._selected_unit_ids: list = []
        self._sorting_curation: dict = {}

    def set_id(self, id: str) -> None:
        self.id = id

    def to_dict(self) -> dict:
        return {}

    def child_views(self) -> List["View"]:
        return []

    @property
    def selected_unit_ids(self) -> list:
        return deepcopy(self._selected_unit_ids)

    @property
    def sorting_curation(self) -> dict:
        return deepcopy(self._sorting_curation)

    def set_selected_unit_ids(self, ids: List[Union[int, str]]) -> None:
        raise NotImplementedError("Jupyter mode is not supported (as in sortingview 0.14); open view.url() instead")

    def set_sorting_curation(self, sorting_curation: dict) -> None:
        raise NotImplementedError("Jupyter mode is not supported (as in sortingview 0.14); open view.url() instead")

    def jupyter(self, *, height: Union[int, None] = None) -> None:
        raise NotImplementedError("Jupyter mode is not supported (as in sortingview 0.14); open view.url() instead")

    def get_descendant_views_including_self(self) -> List["View"]:
        ret: List[View] = [self]
        for child in self.child_views():
            ret.extend(child.get_descendant_views_including_self())
        return ret

    def url_dict(self, *, label: str, state: Union[dict, None] = None, allow_float64: bool = False) -> dict:
        """Store the figure and return figurl's url dict: ``{"type": "figurl", "label", "v", "d"[, "state"]}``.

        ``state`` (e.g. ``{"sortingCuration": "sha1://..."}``) is carried in the link as compact JSON.
        Arrays of dtype float64 are refused unless ``allow_float64=True`` (convert them to float32).
        """
        from ._figure import store_figure

        if not self.is_layout:
            from .layouts import Box, LayoutItem

            return Box(direction="horizontal", items=[LayoutItem(self)]).url_dict(
                label=label, state=state, allow_float64=allow_float64)
        ret: dict[str, Any] = {"type": "figurl", "label": _check_label(label), "v": VIEWS_FIGURE_TYPE,
                               "d": store_figure(self, allow_float64=allow_float64)}
        if state is not None:
            ret["state"] = state_json(state)
        return ret

    def url(self, *, label: str, state: Union[dict, None] = None, allow_float64: bool = False,
            sorting_curation_uri: Union[str, None] = None, time_range: Union[List[float], None] = None,
            **cloud_only: Any) -> str:
        """Store the figure and return its link to our server (``<base>/f?v=...&d=sha1://...&label=...``).

        The 2022 arguments still work: ``sorting_curation_uri`` becomes ``state["sortingCuration"]`` and
        ``time_range`` ``state["timeRange"]``; the cloud-only ones (``local``, ``electron``, ``project_id``,
        ``listen_port``) have nothing to do here and are ignored.
        """
        unknown = set(cloud_only) - {"local", "electron", "project_id", "listen_port"}
        if unknown:
            raise TypeError(f"url() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")
        if sorting_curation_uri is not None or time_range is not None:
            state = dict(state or {})
            if sorting_curation_uri is not None:
                state["sortingCuration"] = sorting_curation_uri
            if time_range is not None:
                state["timeRange"] = list(time_range)
        return url_from_url_dict(self.url_dict(label=label, state=state, allow_float64=allow_float64))


def _check_label(label: Any) -> str:
    if not isinstance(label, str):
        raise SerializationError(f"label must be a string (the figure's title), got {type(label).__name__}")
    return label


def state_json(state: Any) -> str:
    """The figure state as carried in a link: compact JSON with sorted keys (as figurl)."""
    if not isinstance(state, dict):
        raise SerializationError(f"state must be a dict such as {{'sortingCuration': 'sha1://...'}}, "
                                 f"got {type(state).__name__}")
    try:
        return json.dumps(state, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"state cannot be written as JSON: {exc}; use plain strings, numbers, lists "
                                 "and dicts") from None


def url_from_url_dict(url_dict: dict, *, base_url: Union[str, None] = None) -> str:
    """The link of a url dict: ``<base>/f?v=<v>&d=<d>[&label=<quoted>][&s=<quoted state JSON>]``."""
    if base_url is None:
        from ..workspace.figurl import default_base_url

        base_url = default_base_url()
    url = f"{base_url.rstrip('/')}/f?v={url_dict['v']}&d={url_dict['d']}"
    if url_dict.get("label"):
        url += f"&label={quote(url_dict['label'])}"
    if url_dict.get("state"):
        url += f"&s={quote(url_dict['state'])}"
    return url
