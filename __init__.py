"""Not the sortingview package: this is the root folder of a clone of the sortingview repository.

Python run from the folder that *contains* a clone named ``sortingview`` finds this folder first when it
imports ``sortingview``. Without this file, an editable install lost to the folder, imported as an empty
namespace package (``module 'sortingview' has no attribute 'load_workspace'``). With it, the import loads the
installed sortingview package in this module's place (a module may replace itself in ``sys.modules``), and
when none is installed it fails with an ImportError that says what happened and what to do. Imported under any
other name (tools that walk up folders holding an ``__init__.py``), this file does nothing.
"""
import importlib.machinery as _machinery
import importlib.util as _util
import os as _os
import sys as _sys

_here = _os.path.dirname(_os.path.abspath(__file__))


def _installed_spec():
    """The spec of the sortingview package found anywhere but in the folder holding this clone."""
    parent = _os.path.dirname(_here)
    path = [p for p in _sys.path if _os.path.abspath(p or _os.curdir) != parent]
    spec = _machinery.PathFinder.find_spec("sortingview", path)
    if spec is not None and spec.origin not in (None, "namespace"):
        return spec
    for finder in _sys.meta_path:  # an editable install's finder comes after the path finder
        if finder is _machinery.PathFinder or not hasattr(finder, "find_spec"):
            continue
        spec = finder.find_spec("sortingview", None)
        if spec is not None and spec.origin not in (None, "namespace"):
            return spec
    return None


if __name__ == "sortingview" and _os.path.isfile(_os.path.join(_here, "sortingview", "__init__.py")):
    _spec = _installed_spec()
    if _spec is None:
        raise ImportError(
            f"'import sortingview' found {_here}, a clone of the sortingview repository, not the sortingview "
            "package, because Python looks in the current folder first, and no sortingview package is installed. "
            f"Install it (`pip install -e {_here}`), or run Python from inside the clone (`cd {_here}`)."
        )
    _module = _util.module_from_spec(_spec)
    _sys.modules["sortingview"] = _module
    try:
        _spec.loader.exec_module(_module)
    except BaseException:
        del _sys.modules["sortingview"]
        raise
