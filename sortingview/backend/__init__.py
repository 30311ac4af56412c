"""Channel, job handlers, configuration and the backend run loop.

Importing the package registers the backend's own task, ``sortingview.backend_status.1``.
"""
from . import status  # noqa: F401
