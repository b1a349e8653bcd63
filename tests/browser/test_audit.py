"""An audit from draft to verdict in real Chromium, as the demo trade officer does it: start an audit of a point
against Decision 950/QĐ-BCT, mark the outcome of every criterion, upload a photo of the signage (taken with its
time and GPS position), submit, conclude with a verdict, and find the verdict on the list of audits.

The page is in Vietnamese (the browser's locale): the steps find things by names, values and classes, not by text."""
import re
from io import BytesIO

import pytest
from PIL import ExifTags, Image

pytestmark = pytest.mark.browser
OFFICER = "officer@demo.ocop.vn"  # seed/accounts.json; demo password (seed/README.md)
PASSWORD = "ocop-demo"
POINT = "DN-BH-01"  # a demo point without an audit (the demo audits are of DN-TT-01 and DN-XL-01)
SET = "950/QĐ-BCT"
# The kinds of place: the point stands in one of them, the others do not apply to it.
PLACES = {"L-01", "L-02", "L-03", "L-04", "L-05", "L-05b", "L-06", "L-06b", "L-07", "L-08"}
PLACE_OF_POINT = "L-03"


def signage_photo() -> bytes:
    """A phone photo of the sign: EXIF time 12/05/2025 09:30 and position 10.95 N, 106.82 E."""
    image = Image.new("RGB", (320, 240), (20, 97, 58))
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2025:05:12 09:30:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (10.0, 57.0, 0.0)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (106.0, 49.0, 12.0)
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def log_in(page, base: str) -> None:
    page.goto(f"{base}/account/login")
    page.locator("#email").fill(OFFICER)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/account/login" not in url)


def choose_option(select, starts_with: str) -> None:
    for option in select.locator("option").all():
        if option.inner_text().strip().startswith(starts_with):
            select.select_option(value=option.get_attribute("value"))
            return
    raise AssertionError(f"no option starting with {starts_with!r}")


def test_an_officer_takes_an_audit_from_draft_to_verdict(page, live_server):
    log_in(page, live_server)

    # Start the audit: the point and the criteria set.
    page.goto(f"{live_server}/department/audits/new")
    choose_option(page.locator("select#point_id"), POINT)
    choose_option(page.locator("select#set_id"), SET)
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/department/audits/\d+$"))
    audit_url = page.url
    audit_id = audit_url.rsplit("/", 1)[1]
    assert page.locator(".audit-status--draft").count() == 1
    assert POINT in page.locator("h1").inner_text()

    # The outcome of every criterion, with a note on the place.
    rows = page.locator("li.audit-criterion")
    assert rows.count() >= 10
    for row in rows.all():
        code = row.get_attribute("id").removeprefix("criterion-")
        value = "not_applicable" if code in PLACES and code != PLACE_OF_POINT else "pass"
        row.locator(f"input[type=radio][value={value}]").check()
    page.locator(f'li[id="criterion-{PLACE_OF_POINT}"] textarea').fill("Điểm nằm trong chợ Biên Hòa.")
    page.locator("#results-form > button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(f'li[id="criterion-{PLACE_OF_POINT}"] textarea').input_value() == "Điểm nằm trong chợ Biên Hòa."
    assert page.locator(f'li[id="criterion-{PLACE_OF_POINT}"] input[value=pass]').is_checked()

    # A photo of the signage: its time and GPS position show beside the criterion.
    signage = page.locator('li[id="criterion-S-01"]')
    signage.locator("summary").click()
    signage.locator("input[name=title]").fill("Biển hiệu nhìn từ đường Phạm Văn Thuận")
    signage.locator("input[type=file]").set_input_files(
        {"name": "bien-hieu.jpg", "mimeType": "image/jpeg", "buffer": signage_photo()})
    signage.locator("button[type=submit]").click()
    page.wait_for_load_state()
    signage = page.locator('li[id="criterion-S-01"]')
    thumbnail = signage.locator(".evidence__thumb img")
    thumbnail.wait_for()
    assert thumbnail.get_attribute("alt") == "Biển hiệu nhìn từ đường Phạm Văn Thuận"
    thumbnail.scroll_into_view_if_needed()  # thumbnails load lazily
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    facts = signage.locator(".evidence__meta").first.inner_text()
    assert "12/05/2025 09:30" in facts and "10.95, 106.82" in facts

    # Submit, then conclude with a verdict.
    page.locator(f'form[action$="/audits/{audit_id}/submit"] button[type=submit]').click()
    page.locator(".audit-status--submitted").wait_for()
    page.locator("input[name=verdict][value=meets]").check()
    page.locator("textarea#summary").fill("Điểm đáp ứng các tiêu chí của Quyết định 950/QĐ-BCT.")
    page.locator(f'form[action$="/audits/{audit_id}/conclude"] button[type=submit]').click()
    page.locator(".audit-status--concluded").wait_for()
    assert page.locator(".audit-verdict--meets").count() >= 1
    assert page.locator("input[type=radio][name^=outcome_]").count() == 0  # read only now
    assert page.locator(f'form[action$="/audits/{audit_id}/reaudit"]').count() == 1

    # The verdict on the list of audits.
    page.goto(f"{live_server}/department/audits?point={POINT}")
    row = page.locator("tbody tr", has=page.locator(f'a[href$="/department/audits/{audit_id}"]'))
    assert row.count() == 1
    assert row.locator(".audit-verdict--meets").count() == 1 and row.locator(".audit-status--concluded").count() == 1
