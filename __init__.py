"""Not the sortingview package: this is the root folder of a clone of the sortingview repository.

Python run from the folder that *contains* a clone named ``sortingview`` finds this folder first when it
imports ``sortingview``. Without this file it would silently import the folder as an empty namespace package
(``module 'sortingview' has no attribute 'load_workspace'``); with it, the import fails and says why.
The package itself is the ``sortingview/`` folder next to this file. Imported under any other name (tools
that walk up folders holding an ``__init__.py``), this file does nothing.
"""
import os as _os

_here = _os.path.dirname(_os.path.abspath(__file__))
if __name__ == "sortingview" and _os.path.isfile(_os.path.join(_here, "sortingview", "__init__.py")):
    raise ImportError(
        f"'import sortingview' found {_here}, a clone of the sortingview repository, instead of the installed "
        "sortingview package, because Python looks in the current folder first. Run Python from another folder "
        f"(for example `cd {_here}`), or rename the clone (e.g. `mv sortingview sortingview-src`, then "
        "`pip install -e sortingview-src`)."
    )
