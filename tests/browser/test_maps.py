"""The maps in real Chromium: a sales point named like HTML (`<img src=x onerror=alert(1)>`) shows its name as text
in the marker's tooltip and popup, and no <img> element is made of it.

The page is fetched from the live demo shop and, before the browser sees it, the first point's name is replaced by
the payload exactly as the server writes any name into the map's data (HTML-escaped in a data- attribute): what the
scripts then do with it is what a point really named so would get."""
import html
import re

import pytest

pytestmark = pytest.mark.browser
PAYLOAD = "<img src=x onerror=alert(1)>"
OFFICER = "officer@demo.ocop.vn"  # seed/accounts.json; demo password (seed/README.md)
PASSWORD = "ocop-demo"


def serve_point_named(page, url: str, attribute: str, name: str) -> None:
    def handle(route):
        response = route.fetch()
        body, found = re.subn(rf'{attribute}="[^"]*"', f'{attribute}="{html.escape(name)}"', response.text(), count=1)
        assert found, f"{url} has no {attribute}: no point with a position to put on the map"
        route.fulfill(response=response, body=body)

    page.route(url, handle)


def watch_dialogs(page) -> list[str]:
    opened = []
    page.on("dialog", lambda dialog: (opened.append(dialog.message), dialog.dismiss()))
    return opened


def test_the_points_map_shows_an_html_like_name_as_text(page, live_server):
    dialogs = watch_dialogs(page)
    serve_point_named(page, f"{live_server}/points", "data-point-name", PAYLOAD)
    page.goto(f"{live_server}/points")
    marker = page.locator("#points-map .leaflet-marker-icon").first
    marker.click()
    popup = page.locator("#points-map .leaflet-popup-content")
    popup.wait_for()
    assert PAYLOAD in popup.inner_text()
    assert page.locator("#points-map .leaflet-popup-pane img").count() == 0
    assert marker.get_attribute("title") == PAYLOAD  # an attribute's text, not markup
    assert dialogs == []


def test_the_compliance_map_shows_an_html_like_name_as_text(page, live_server):
    dialogs = watch_dialogs(page)
    page.goto(f"{live_server}/account/login")
    page.locator("#email").fill(OFFICER)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/account/login" not in url)
    serve_point_named(page, f"{live_server}/department", "data-map-name", PAYLOAD)
    page.goto(f"{live_server}/department")
    marker = page.locator("#compliance-map path.compliance-marker").first
    marker.hover()
    tooltip = page.locator("#compliance-map .leaflet-tooltip")
    tooltip.wait_for()
    assert PAYLOAD in tooltip.inner_text()
    marker.click()
    popup = page.locator("#compliance-map .leaflet-popup-content")
    popup.wait_for()
    assert PAYLOAD in popup.inner_text()
    assert page.locator("#compliance-map .leaflet-tooltip-pane img, "
                        "#compliance-map .leaflet-popup-pane img").count() == 0
    assert dialogs == []
