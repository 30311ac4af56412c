"""The viewer's pure drawing helpers (sortingview/viewer/js/draw/{electrodes,matrix,metricplots}.js), run in Node.

They hold the geometry the view types share with the original GUI: the probe fitted into a canvas, matrix cells,
histogram bins. Each test runs a small ES module script with `node` and checks what it prints.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

DRAW = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sortingview", "viewer", "js", "draw")
PROBE = {str(c): [16.0 * (c % 2), 20.0 * (c // 2)] for c in range(8)}  # 2 columns x 4 rows, 16 x 60 um


def run_node(script: str):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (apt-get install -y nodejs)")
    modules = ("electrodes", "matrix", "metricplots")
    prelude = "".join(f'import * as {m} from "file://{DRAW}/{m}.js";\n' for m in modules)
    out = subprocess.run([node, "--input-type=module", "-e", prelude + script], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def layout(width: int, height: int, locs: dict, **opts) -> dict:
    return run_node(f"""
const L = electrodes.layoutElectrodes({width}, {height}, electrodes.electrodesFromLocations({json.dumps(locs)}),
  {json.dumps(opts)});
const back = Object.entries({json.dumps(locs)}).map(([id, [x, y]]) => L.toPixel(x, y));
console.log(JSON.stringify({{electrodes: L.electrodes, radius: L.radius, back}}));""")


def test_a_portrait_probe_is_turned_to_fill_a_landscape_canvas():
    out = layout(600, 300, PROBE)
    xs = [e["px"] for e in out["electrodes"]]
    ys = [e["py"] for e in out["electrodes"]]
    assert max(xs) - min(xs) > max(ys) - min(ys), "the 60 um axis should run along the canvas's width"
    assert all(0 <= x <= 600 for x in xs) and all(0 <= y <= 300 for y in ys)
    # dots are 45% of the closest distance (16 um), capped at 25 px
    assert out["radius"] == pytest.approx(25.0)
    closest = min(((a["px"] - b["px"]) ** 2 + (a["py"] - b["py"]) ** 2) ** 0.5
                  for i, a in enumerate(out["electrodes"]) for b in out["electrodes"][i + 1:])
    assert closest == pytest.approx(out["radius"] / 0.45)
    # a location given in probe coordinates lands where its electrode is drawn
    for e, (bx, by) in zip(out["electrodes"], out["back"], strict=True):
        assert (bx, by) == pytest.approx((e["px"], e["py"]))


def test_disable_auto_rotate_keeps_the_probe_upright_with_y_up():
    out = layout(600, 300, PROBE, disableAutoRotate=True)
    by_id = {e["id"]: e for e in out["electrodes"]}
    assert by_id["0"]["px"] == pytest.approx(by_id["2"]["px"])  # same column
    assert by_id["6"]["py"] < by_id["0"]["py"], "larger y is drawn higher"
    assert max(e["py"] for e in out["electrodes"]) - min(e["py"] for e in out["electrodes"]) <= 300


def test_electrodes_without_geometry_are_spread_on_a_line():
    out = layout(400, 200, {"a": [0, 0], "b": [0, 0], "c": [0, 0]})
    assert len({round(e["px"], 3) for e in out["electrodes"]}) == 3
    assert len({round(e["py"], 3) for e in out["electrodes"]}) == 1


def test_matrix_cells_and_colours():
    out = run_node("""
const g = matrix.matrixGeometry(300, 200, 4, 4);
console.log(JSON.stringify({
  g, centre: matrix.cellAt(g, 150, 100), corner: matrix.cellAt(g, 51, 1), outside: matrix.cellAt(g, 10, 100),
  nan: matrix.colorForValue(NaN, [0, 1]), one: matrix.colorForValue(1, [0, 1]), half: matrix.colorForValue(0.5, [0, 1]),
  hi: matrix.colorForValue(0.5, [0, 1], true), ids: matrix.sortIds([10, 2, "u3", 1]),
}));""")
    assert out["g"] == {"x0": 50, "y0": 0, "size": 200, "n1": 4, "n2": 4}
    assert out["centre"] == {"i1": 2, "i2": 2} and out["corner"] == {"i1": 0, "i2": 0} and out["outside"] is None
    assert out["nan"] == "rgb(50, 20, 0)" and out["one"] == "rgb(255, 255, 255)" and out["half"] == "rgb(127, 127, 127)"
    assert out["hi"] == "rgb(98, 98, 255)"
    assert out["ids"] == [1, 2, "u3", 10]


def test_histogram_bins_cover_every_value_with_half_a_bin_of_padding():
    values = [1.0, 2.0, 2.5, 3.0, 7.0, 9.0]
    out = run_node(f"console.log(JSON.stringify(metricplots.histogramBars({json.dumps(values)}, 4)));")
    bars = out["bars"]
    assert len(bars) == 4 and sum(b["count"] for b in bars) == len(values)
    width = bars[0]["xEnd"] - bars[0]["xStart"]
    assert bars[0]["xStart"] == pytest.approx(1.0 - 1.0)  # (9 - 1) / 4 / 2 = 1 below the minimum
    assert bars[-1]["xEnd"] == pytest.approx(9.0 + (9.0 - 0.0) / 4 / 2)  # then (max - new min) / 4 / 2 above
    assert width > 0
    assert all(b2["xStart"] == pytest.approx(b1["xEnd"]) for b1, b2 in zip(bars[:-1], bars[1:], strict=True))
    assert all(bars[0]["xStart"] <= t <= bars[-1]["xEnd"] for t in out["ticks"]) and out["ticks"]
    assert run_node("console.log(JSON.stringify(metricplots.histogramBars([3, 3, 3], 10)));")["bars"] == []
