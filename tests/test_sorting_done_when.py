"""Issue 15's "Done when", from the user's side: a generated study set, one `sortingview sort` command (a real
process) sorting its recordings with two sorters through a running backend, the benchmark page in Chromium
whose numbers equal SpikeInterface's compare_sorter_to_ground_truth, and a sorting's view showing the
ground-truth accuracy column (written by nobody: the workspace adds it)."""
from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from test_browser_support import backend_process, checked_page, chromium_browser, screenshot

from sortingview.cli import main as cli_main

pytestmark = pytest.mark.slow


def _si_performance(gt, sorting):
    """SpikeInterface's per-ground-truth-unit performance, and per sorted unit the accuracy of its match."""
    from spikeinterface.comparison import compare_sorter_to_ground_truth

    comp = compare_sorter_to_ground_truth(gt, sorting, delta_time=0.4, match_score=0.5)
    perf = comp.get_performance(method="by_unit")
    by_sorted = {str(s): float(perf.loc[g, "accuracy"]) for s, g in comp.hungarian_match_21.items()
                 if str(g) not in ("-1", "")}
    return perf, by_sorted


def test_sort_with_two_sorters_in_one_command_and_read_the_benchmark_page(store_dir, tmp_path, chromium_path):
    from sortingview.workspace.benchmark_sets import find_benchmark

    created = CliRunner().invoke(cli_main, ["benchmark", "create", "donewhen", "--snr", "10", "--drift", "both",
                                            "--duration", "10", "--channels", "4", "--units", "4", "--seed", "3"])
    assert created.exit_code == 0, created.output
    W = find_benchmark("donewhen")
    rids = list(W.recording_ids)
    with backend_process(str(tmp_path)) as url:
        cmd = [shutil.which("sortingview"), "sort", "--workspace", W.uri, "--no-progress",
               *[a for r in rids for a in ("--recording", r)], "--sorter", "simple", "--sorter", "tdc2"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=os.environ.copy())
        assert done.returncode == 0, done.stdout + done.stderr
        lines = [x.split("\t") for x in done.stdout.splitlines()]
        assert sorted(lab for _, _, lab in lines) == ["simple default"] * 2 + ["tridesclous2 default"] * 2
        W = find_benchmark("donewhen")
        expected = {}  # sorting id -> SpikeInterface's per-unit performance and accuracy per sorted unit
        for sid, rid, _ in lines:
            gt = W.get_sorting_extractor(W.get_ground_truth(rid))
            expected[sid] = _si_performance(gt, W.get_sorting_extractor(sid))
            metrics = {m["name"]: m["data"] for m in W.get_unit_metrics_for_sorting(sid)}
            assert metrics["gtAccuracy"] == pytest.approx(expected[sid][1])  # the columns came by themselves

        with chromium_browser(chromium_path) as browser, checked_page(browser) as pg:
            pg.goto(f"{url}/benchmark?w=donewhen")
            pg.wait_for_selector("body[data-ready='1']", timeout=120_000)
            cells = pg.eval_on_selector_all("#bm-matrix td[data-sorting-id]", "els => els.map(e => "
                                            "[e.dataset.sortingId, e.textContent, e.querySelector('a').href])")
            assert len(cells) == 4
            for sid, text, _ in cells:
                assert text == f"{expected[sid][0]['accuracy'].mean():.3f}"
            summary = pg.eval_on_selector_all("#bm-summary tr[data-sorter]", "els => els.map(e => ["
                                              "e.dataset.sorter, e.dataset.study, "
                                              "[...e.querySelectorAll('td')].map(t => t.textContent)])")
            pooled = {s: tds for s, study, tds in summary if study == "(all studies)"}
            for sorter in ("simple default", "tridesclous2 default"):
                perf = [expected[sid][0] for sid, _, lab in lines if lab == sorter]
                for col, name in ((3, "accuracy"), (4, "precision"), (5, "recall")):
                    values = np.concatenate([p[name].to_numpy(dtype=float) for p in perf])
                    assert pooled[sorter][col] == f"{values.mean():.3f}", (sorter, name)
                assert pooled[sorter][2] == str(sum(len(p) for p in perf))
            screenshot(pg, "done-when-benchmark.png")

            sid, _, href = cells[0]  # a number links to the sorting's view, with the ground-truth columns
            pg.goto(href)
            pg.wait_for_function("() => [...document.querySelectorAll('table.units th')]"
                                 ".some(th => th.textContent.startsWith('GT accuracy'))", timeout=180_000)
            shown = pg.eval_on_selector("table.units", """t => {
              const heads = [...t.querySelectorAll('thead th')];
              const col = heads.findIndex(th => th.textContent.startsWith('GT accuracy'));
              return [...t.querySelectorAll('tbody tr[data-unit]')]
                .map(r => [r.dataset.unit, r.cells[col].textContent]);
            }""")
            by_sorted = expected[sid][1]
            assert shown and {u for u, _ in shown} >= set(by_sorted)
            for unit, text in shown:
                if unit in by_sorted:
                    assert float(text) == pytest.approx(by_sorted[unit], abs=0.006), (unit, text)
            screenshot(pg, "done-when-gt-columns.png")
