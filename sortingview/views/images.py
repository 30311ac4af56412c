"""Image views: ``Image``, ``UnitImages`` (a picture per unit), and ``TiledImage`` (not available here)."""
from __future__ import annotations

import base64
import os
import tempfile
from typing import Any, List, Union

from .view import View, ViewError

_PREFIXES = {".jpg": "data:image/jpeg;base64,", ".jpeg": "data:image/jpeg;base64,", ".png": "data:image/png;base64,"}
#: a picture travels inside the view's data as a data: URL; this bounds the figure it makes
MAX_IMAGE_BYTES = 20 * 1000 * 1000


def data_url_of_file(path: str) -> str:
    """A ``data:image/...;base64,`` URL holding the .png/.jpg file ``path``."""
    prefix = _PREFIXES.get(os.path.splitext(path)[1].lower())
    if prefix is None:
        raise ViewError(f"unrecognized image type: {path} (use a .png, .jpg or .jpeg file)")
    size = os.path.getsize(path)
    if size > MAX_IMAGE_BYTES:
        raise ViewError(f"image {path} has {size} bytes, more than {MAX_IMAGE_BYTES}; save it smaller")
    with open(path, "rb") as f:
        return prefix + base64.b64encode(f.read()).decode("ascii")


class Image(View):
    """A picture: a ``url`` (http(s) or data:) or the file ``image_path`` (.png, .jpg)."""

    def __init__(self, *, url: Union[str, None] = None, image_path: Union[str, None] = None, **kwargs) -> None:
        super().__init__("Image", **kwargs)
        if image_path is not None and url is not None:
            raise ViewError("Image: give url or image_path, not both")
        if image_path is None and url is None:
            raise ViewError("Image: give url=... or image_path=...")
        self._url = data_url_of_file(image_path) if image_path is not None else url

    def to_dict(self) -> dict:
        return {"type": self.type, "url": self._url}


class UnitImagesItem:
    """The matplotlib ``figure`` of one unit, saved as a JPEG at ``dpi``."""

    def __init__(self, unit_id: Union[int, str], figure: Any, dpi: int) -> None:
        self.unit_id = unit_id
        with tempfile.TemporaryDirectory() as tmpdir:
            path = os.path.join(tmpdir, "image.jpg")
            figure.savefig(path, dpi=dpi)
            self.url = data_url_of_file(path)

    def to_dict(self) -> dict:
        return {"unitId": self.unit_id, "url": self.url}


class UnitImages(View):
    """One picture per unit, ``item_width`` x ``item_height`` pixels each."""

    def __init__(self, items: List[UnitImagesItem], item_width: float, item_height: float, **kwargs) -> None:
        super().__init__("UnitImages", **kwargs)
        self._items = items
        self._item_width = item_width
        self._item_height = item_height

    def to_dict(self) -> dict:
        return {"type": self.type, "items": [i.to_dict() for i in self._items], "itemWidth": self._item_width,
                "itemHeight": self._item_height}


_TILED = ("TiledImage is not available in this sortingview: it needs pyvips to cut the image into deep-zoom "
          "tiles and a tiled-image viewer module, neither of which is part of it. Show the picture with "
          "sortingview.views.Image instead.")


class TiledImageLayer:
    """Not available (see TiledImage)."""

    def __init__(self, label: str, data: Any) -> None:
        raise NotImplementedError(_TILED)


class TiledImage(View):
    """Not available: deep-zoom tiled images (pyvips) are not supported; use ``Image``."""

    def __init__(self, *, tile_size: int, layers: List[TiledImageLayer], verbose: bool = False, **kwargs) -> None:
        raise NotImplementedError(_TILED)
