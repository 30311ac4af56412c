"""The clone trap: Python run from the folder that contains a clone named `sortingview` finds the clone's root
folder first. The root's __init__.py then loads the installed package in its place, or, when none is installed,
fails with an ImportError that says what happened and what to do."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = "import sortingview as s; print(s.__file__); print(s.load_workspace.__module__)"


@pytest.fixture
def clone(tmp_path):
    """A copy of the repository's root __init__.py and package, in a folder named `sortingview`."""
    root = tmp_path / "sortingview"
    root.mkdir()
    shutil.copy(os.path.join(REPO, "__init__.py"), root / "__init__.py")
    shutil.copytree(os.path.join(REPO, "sortingview"), root / "sortingview",
                    ignore=shutil.ignore_patterns("__pycache__", "viewer"))
    return root


def _python(cwd, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=env if env is not None else os.environ.copy())


@pytest.mark.parametrize("pythonpath", [True, False], ids=["as-run", "installed-only"])
def test_from_the_folder_holding_the_clone_the_installed_package_is_imported(clone, pythonpath):
    # without PYTHONPATH the package comes from the (editable) install: the finder that used to lose to the folder
    env = os.environ.copy() if pythonpath else {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = _python(clone.parent, "-c", PROBE, env=env)
    assert r.returncode == 0, r.stderr
    path, module = r.stdout.split()
    assert not path.startswith(str(clone)), path  # not the clone's folder, and not an empty namespace package
    assert path.endswith(os.path.join("sortingview", "__init__.py")) and module == "sortingview.workspace.workspace"


def test_with_no_package_installed_the_error_says_what_happened_and_what_to_do(clone):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = _python(clone.parent, "-S", "-c", PROBE, env=env)  # -S: no site-packages, so nothing is installed
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: 'import sortingview' found ")
    assert f"{clone}, a clone of the sortingview repository" in last
    assert f"pip install -e {clone}" in last and f"cd {clone}" in last


def test_inside_the_clone_its_own_package_is_imported(clone):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = _python(clone, "-c", "import sortingview as s; print(s.__file__, s.load_workspace.__name__)", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(clone / "sortingview" / "__init__.py"), "load_workspace"]


def test_the_root_init_does_nothing_under_another_name():
    init = os.path.join(REPO, "__init__.py")
    r = _python(os.path.dirname(REPO), "-c", f"import importlib.util as u; s = u.spec_from_file_location('other', "
                f"{init!r}); m = u.module_from_spec(s); s.loader.exec_module(m); print('ok')")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
