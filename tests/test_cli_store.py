"""`sortingview --version`, `sortingview store put|get|link` and `sortingview feed show`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

import sortingview.store as sv_store
from sortingview._version import __version__
from sortingview.cli import main

MISSING_URI = "sha1://" + "0123456789" * 4


@pytest.fixture
def run(store_dir):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    return invoke


@pytest.fixture
def data_file(tmp_path):
    p = tmp_path / "firings.npz"
    p.write_bytes(b"\x93NUMPY fake but binary \x00\xff" * 100)
    return p


def _clean_error(result, *words):
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.output
    for w in words:
        assert w in result.stderr


def test_version(run):
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"sortingview, version {__version__}"


def test_put_then_get_path_and_cat(run, data_file, store_dir):
    r = run("store", "put", str(data_file))
    assert r.exit_code == 0
    uri = r.stdout.strip()
    assert uri.startswith("sha1://") and uri.endswith("?label=firings.npz")
    r = run("store", "get", uri)
    path = r.stdout.strip()
    assert r.exit_code == 0 and path.startswith(str(store_dir)) and open(path, "rb").read() == data_file.read_bytes()
    r = run("store", "get", "--cat", "--verify", uri)
    assert r.exit_code == 0 and r.stdout_bytes == data_file.read_bytes()
    sha1 = sv_store.parse_uri(uri).sha1
    assert run("store", "get", f"kachery:lab:sha1:{sha1}:x.npz").stdout.strip() == path


def test_put_with_label(run, data_file):
    uri = run("store", "put", "--label", "sorting 1.npz", str(data_file)).stdout.strip()
    assert uri.endswith("?label=sorting%201.npz")


def test_link_references_the_file_in_place(run, data_file):
    r = run("store", "link", str(data_file))
    assert r.exit_code == 0
    assert run("store", "get", r.stdout.strip()).stdout.strip() == str(data_file)


def test_changed_linked_file_is_a_clean_error(run, data_file):
    uri = run("store", "link", str(data_file)).stdout.strip()
    data_file.write_bytes(b"short")
    _clean_error(run("store", "get", uri), "changed size", "restore")


def test_corrupt_stored_file_fails_verify(run, data_file):
    uri = run("store", "put", str(data_file)).stdout.strip()
    path = run("store", "get", uri).stdout.strip()
    with open(path, "r+b") as f:
        f.write(b"X")
    assert run("store", "get", uri).exit_code == 0  # without --verify the digest is not recomputed
    _clean_error(run("store", "get", "--verify", uri), "no longer matches", "store the original again")


@pytest.mark.parametrize("bad", ["sha1://../..", "not-a-uri", "sha1://abc", "kachery:z:sha1:xyz"])
def test_bad_uri(run, bad):
    _clean_error(run("store", "get", bad), "invalid URI")


def test_uri_mistakes_get_a_hint(run):
    _clean_error(run("store", "get", "ab" * 20), "write it as sha1://" + "ab" * 20)
    _clean_error(run("store", "get", "feed://" + "ab" * 20), "feed show")


def test_missing_content(run):
    _clean_error(run("store", "get", MISSING_URI), "is not in the store", "KACHERY_CLOUD_DIR")


@pytest.mark.parametrize("cmd", ["put", "link"])
def test_missing_file_and_folder(run, tmp_path, cmd):
    _clean_error(run("store", cmd, str(tmp_path / "nope.bin")), "does not exist")
    _clean_error(run("store", cmd, str(tmp_path)), "is a directory")


def test_feed_show(run):
    feed = sv_store.create_feed()
    feed.append_message({"action": "ADD_UNIT_LABEL", "unitId": 4, "label": "noise"}, user_id="alice")
    feed.append_message({"action": "MERGE_UNITS", "unitIds": [1, 2]})
    r = run("feed", "show", feed.uri)
    assert r.exit_code == 0
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0] == "0" and "alice" in lines[0] and '"label": "noise"' in lines[0]
    assert lines[1].split()[0] == "1" and " - " in lines[1] and "MERGE_UNITS" in lines[1]
    r = run("feed", "show", "--json-lines", "--start", "1", feed.uri)
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["messageNumber"] for x in recs] == [1] and recs[0]["message"]["unitIds"] == [1, 2]


def test_feed_show_errors(run):
    _clean_error(run("feed", "show", "feed://nothex!"), "invalid feed URI")
    _clean_error(run("feed", "show", "feed://" + "ab" * 20), "is not in the store")


@pytest.mark.parametrize("args,words", [
    ([], ["store", "feed", "KACHERY_CLOUD_DIR", "KACHERY_CLOUD_MULTI_USER"]),
    (["store"], ["put", "get", "link", "kachery-cloud"]),
    (["store", "put"], ["PATH", "--label", "Example"]),
    (["store", "link"], ["no copy", "cached", "detected"]),
    (["store", "get"], ["--cat", "--verify", "kachery:"]),
    (["feed"], ["show"]),
    (["feed", "show"], ["--start", "--json-lines", "feed://"]),
])
def test_every_command_has_useful_help(run, args, words):
    r = run(*args, "--help")
    assert r.exit_code == 0
    for w in words:
        assert w in r.stdout


def _console_script() -> str:
    exe = shutil.which("sortingview") or os.path.join(os.path.dirname(sys.executable), "sortingview")
    if not os.path.exists(exe):
        pytest.fail("the `sortingview` console script is not installed; run `pip install -e .`")
    return exe


def test_real_console_script(store_dir, data_file):
    exe = _console_script()

    def sv(*args):
        return subprocess.run([exe, *args], capture_output=True, timeout=60)

    r = sv("store", "put", str(data_file))
    assert r.returncode == 0, r.stderr
    uri = r.stdout.decode().strip()
    assert sv("store", "get", "--cat", uri).stdout == data_file.read_bytes()
    assert sv("--version").stdout.decode().strip() == f"sortingview, version {__version__}"
    bad = sv("store", "get", MISSING_URI)
    assert bad.returncode == 1 and bad.stderr.decode().startswith("Error: ")
    assert b"Traceback" not in bad.stderr and bad.stdout == b""


def test_cat_into_a_closed_pipe_is_quiet(store_dir, tmp_path):
    """`sortingview store get --cat URI | head -c 10`: the reader leaves early; no traceback."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(4 * 2**20))  # far more than a pipe buffer
    uri = sv_store.store_file(str(big))
    p = subprocess.Popen([_console_script(), "store", "get", "--cat", uri], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout.read(10) == big.read_bytes()[:10]
    p.stdout.close()
    err = p.stderr.read()
    p.wait(timeout=60)
    assert b"Traceback" not in err and b"Error" not in err, err
