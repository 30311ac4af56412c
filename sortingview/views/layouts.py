"""Layouts: ``Box``, ``Splitter``, ``TabLayout`` and ``MountainLayout`` (with their items).

A layout's ``to_dict()`` inlines its child layouts and names each child view by its id
(``{"type": "View", "viewId": ...}``); the views' data are stored separately (see ``_figure.py``).
"""
from __future__ import annotations

from typing import List, Literal, Union

from .view import View


def _item_ref(view: View) -> dict:
    return view.to_dict() if view.is_layout else {"type": "View", "viewId": view.id}


class LayoutItem:
    """A view inside a Box or Splitter, with its size constraints and title."""

    def __init__(self, view: View, *, min_size: Union[None, float] = None, max_size: Union[None, float] = None,
                 stretch: Union[None, float] = None, title: Union[None, str] = None,
                 collapsible: Union[None, bool] = None) -> None:
        self.view = view
        self.min_size = min_size
        self.max_size = max_size
        self.stretch = stretch
        self.title = title
        self.collapsible = collapsible

    def properties_dict(self) -> dict:
        ret = {}
        for key, value in (("minSize", self.min_size), ("maxSize", self.max_size), ("stretch", self.stretch),
                           ("title", self.title), ("collapsible", self.collapsible)):
            if value is not None:
                ret[key] = value
        return ret


class Box(View):
    """Views side by side (``direction="horizontal"``) or stacked (``"vertical"``)."""

    def __init__(self, items: List[LayoutItem], *, direction: Literal["horizontal", "vertical"],
                 scrollbar: Union[None, bool] = None, show_titles: bool = False, **kwargs) -> None:
        super().__init__("Box", is_layout=True, **kwargs)
        self._items = items
        self._direction = direction
        self._scrollbar = scrollbar
        self._show_titles = show_titles

    def to_dict(self) -> dict:
        ret = {
            "type": self.type,
            "direction": self._direction,
            "items": [_item_ref(item.view) for item in self._items],
            "itemProperties": [item.properties_dict() for item in self._items],
        }
        if self._scrollbar is not None:
            ret["scrollbar"] = self._scrollbar
        if self._show_titles:
            ret["showTitles"] = True
        return ret

    def child_views(self) -> List[View]:
        return [item.view for item in self._items]


class Splitter(View):
    """Two views with a draggable divider between them."""

    def __init__(self, item1: LayoutItem, item2: LayoutItem, *, direction: Literal["horizontal", "vertical"],
                 **kwargs) -> None:
        super().__init__("Splitter", is_layout=True, **kwargs)
        self._items = [item1, item2]
        self._direction = direction

    def to_dict(self) -> dict:
        return {
            "type": self.type,
            "direction": self._direction,
            "items": [_item_ref(item.view) for item in self._items],
            "itemProperties": [item.properties_dict() for item in self._items],
        }

    def child_views(self) -> List[View]:
        return [item.view for item in self._items]


class TabLayoutItem:
    """A view in a tab with this label."""

    def __init__(self, *, label: str, view: View) -> None:
        self.label = label
        self.view = view


class TabLayout(View):
    """Views in tabs; the tab bar on top (``"horizontal"``) or at the left (``"vertical"``)."""

    def __init__(self, items: List[TabLayoutItem], tab_bar_layout: Literal["horizontal", "vertical"] = "horizontal",
                 **kwargs) -> None:
        super().__init__("TabLayout", is_layout=True, **kwargs)
        self._items = items
        self._tab_bar_layout = tab_bar_layout

    def to_dict(self) -> dict:
        ret = {
            "type": self.type,
            "items": [_item_ref(item.view) for item in self._items],
            "itemProperties": [{"label": item.label} for item in self._items],
        }
        if self._tab_bar_layout != "horizontal":
            ret["tabBarLayout"] = self._tab_bar_layout
        return ret

    def child_views(self) -> List[View]:
        return [item.view for item in self._items]


class MountainLayoutItem:
    """A view of a MountainLayout: a control (left panel, ``control_height`` px) or a view opened in a tab."""

    def __init__(self, *, label: str, view: View, is_control: bool = False,
                 control_height: Union[None, int] = None) -> None:
        self.label = label
        self.view = view
        self.is_control = is_control
        self.control_height = control_height


class MountainLayout(View):
    """MountainView's layout: controls at the left, the other views opened from a list into tabs."""

    def __init__(self, items: List[MountainLayoutItem], **kwargs) -> None:
        super().__init__("Mountain", is_layout=True, **kwargs)
        self._items = items

    def to_dict(self) -> dict:
        properties = []
        for item in self._items:
            p = {"label": item.label, "isControl": item.is_control}
            if item.control_height is not None:
                p["controlHeight"] = item.control_height
            properties.append(p)
        return {
            "type": self.type,
            "items": [_item_ref(item.view) for item in self._items],
            "itemProperties": properties,
        }

    def child_views(self) -> List[View]:
        return [item.view for item in self._items]
