"""The maps' scripts never put a name into the page as HTML: Leaflet inserts a string popup or tooltip with
innerHTML, so a point named "<img src=x onerror=…>" would become an element. Every popup and tooltip is a DOM node
built with textContent (the browser test tests/browser/test_maps.py shows it in Chromium)."""
import re
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parent.parent / "static" / "js").glob("*.js"))
MAP_SCRIPTS = [path for path in SCRIPTS if "L.map(" in path.read_text(encoding="utf-8")]
CONTENT_CALL = re.compile(r"\.(bindTooltip|bindPopup|setTooltipContent|setPopupContent|setContent)"
                          r"\(([^;]*?)\)\s*[\n.;]")
DOM_BUILDER = re.compile(r"^\s*\w+For\(\w+\)\s*$")  # e.g. popupFor(point): a function returning a DOM node


def test_the_map_scripts_are_found():
    assert {path.name for path in MAP_SCRIPTS} >= {"points-map.js", "compliance-map.js"}


@pytest.mark.parametrize("path", MAP_SCRIPTS, ids=lambda path: path.name)
def test_popups_and_tooltips_are_dom_nodes_never_html_strings(path):
    source = path.read_text(encoding="utf-8")
    calls = CONTENT_CALL.findall(source)
    assert calls, "the script binds no popup: the check would prove nothing"
    for method, argument in calls:
        assert DOM_BUILDER.match(argument), f"{path.name}: {method}({argument}) may insert a name as HTML"
    assert not re.search(r"\.innerHTML\s*=(?!=)|insertAdjacentHTML|outerHTML\s*=", source), \
        f"{path.name} writes HTML: use textContent"
    for builder in set(re.findall(r"(\w+For)\(", source)):
        body = source[source.index(f"function {builder}("):]
        body = body[:body.index("\n  }\n")]
        assert "textContent" in body and "innerHTML" not in body, f"{path.name}: {builder} must set textContent"
