"""The forkserver's warm-up loads the serial correlogram kernels without starting numba's thread pool."""
from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json
import sortingview.backend.warm_kernels
from sortingview.compute import correlograms as cg
import numba.np.ufunc.parallel as par
print(json.dumps({"auto": len(cg._auto_kernel_serial.signatures), "cross": len(cg._cross_kernel_serial.signatures),
                  "parallel": len(cg._auto_kernel.signatures), "threads": bool(par._is_initialized)}))
"""


def test_warm_up_compiles_the_serial_kernels_and_starts_no_threads():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=300)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"auto": 1, "cross": 1, "parallel": 0, "threads": False}


def test_the_forkserver_preloads_the_warm_up():
    from sortingview.backend import pool

    ctx = pool._mp_context(())
    if ctx.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    assert "sortingview.backend.warm_kernels" in forkserver._forkserver._preload_modules
