"""views.html and index.html preload exactly the modules figure.js / main.js import (directly or not): a module
missing from the list is fetched late (one round trip per import level), a listed module nobody imports is
fetched for nothing."""
import os
import re

VIEWER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sortingview", "viewer")
IMPORT = re.compile(r"""(?:import|export)\s[^"';]*?from\s+["'](\.[^"']+)["']""")


def import_graph(entry: str) -> set[str]:
    seen: set[str] = set()
    todo = [entry]
    while todo:
        path = os.path.normpath(todo.pop())
        if path in seen:
            continue
        seen.add(path)
        with open(os.path.join(VIEWER, "js", path)) as f:
            src = re.sub(r"//.*", "", f.read())
        todo += [os.path.join(os.path.dirname(path), m) for m in IMPORT.findall(src)]
    return seen


def test_views_html_preloads_the_import_graph_of_figure_js():
    with open(os.path.join(VIEWER, "views.html")) as f:
        html = f.read()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/viewer/js/([^"]+)">', html))
    expected = import_graph("figure.js") - {"figure.js", "figdata.js"}
    assert preloaded == expected, (sorted(expected - preloaded), sorted(preloaded - expected))
    assert '<script type="module" async src="/viewer/js/figdata.js"></script>' in html


def test_index_html_preloads_the_import_graph_of_main_js():
    with open(os.path.join(VIEWER, "index.html")) as f:
        html = f.read()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/viewer/js/([^"]+)">', html))
    expected = import_graph("main.js") - {"main.js"}
    assert preloaded == expected, (sorted(expected - preloaded), sorted(preloaded - expected))
