"""Public trace pages: /t/<code> and the GS1 Digital Link /01/<GTIN>/10/<lot>.

Not in the anonymous page cache: a recall or a withdrawn certificate must show on the very next scan. The page is
made fast instead: the lot, certificate, recall and stock are read afresh each time in a few queries, and only the
append-only journal's HTML is kept, keyed by its version. Light too: one small picture, no script of its own."""
from decimal import Decimal
from functools import lru_cache

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.utils import secure_filename

from shop.core.clock import today
from shop.core.text import render_markdown
from shop.core.uploads import FileRejected, attachment_path
from shop.core.urls import public_base
from shop.extensions import journal_cache
from shop.inventory.queries import lot_on_sale_at
from shop.sales_points.models import SalesPoint
from shop.traceability.digital_link import BadGtin, digital_link, lot_of_product, parse_gtin, product_by_gtin
from shop.traceability.models import AttachmentKind, Lot
from shop.traceability.qr import qr_png, qr_svg
from shop.traceability.trace_page import (
    attachment_of_lot,
    journal_of,
    journal_version,
    lot_by_trace_code,
    timeline,
    trace_view,
)
from shop.web import json_error

bp = Blueprint("trace", __name__)

UPLOAD_SUBDIR = "trace"
QR_SCALES = range(1, 21)
STORY_EXCERPT = 360


def lot_link(lot: Lot) -> str:
    """The address printed in the lot's QR code: on PUBLIC_URL, never this request's Host header."""
    return digital_link(lot, public_base())


def points_holding(lot_id: int) -> list[SalesPoint]:
    """Open points with units of the lot on the shelf."""
    return [place.point for place in lot_on_sale_at(lot_id)]


def _lot_or_404(code: str, *, with_events: bool = False) -> Lot:
    lot = lot_by_trace_code(code, with_events=with_events)
    if lot is None:
        abort(404)
    return lot


def quantity_formatter():
    """A quantity as people write it here: no trailing zeros, the locale's decimal mark (2,5 kg in Vietnamese).
    Cheaper than babel's format_decimal, called for every input of a long journal."""
    mark = "," if str(get_locale()) == "vi" else "."

    def quantity(value) -> str:
        if value is None:
            return ""
        return format(Decimal(value).normalize(), "f").replace(".", mark)

    return quantity


# The rendered journal of recently seen lots, in the journal cache (shared by the workers when CACHE_REDIS_URL is
# set). The journal is append-only, so its version (count and last ids of events, inputs and attachments: one small
# query) names exactly one rendering; the entries also expire (TRACE_JOURNAL_CACHE_SECONDS) so that a renamed sales
# point shows within minutes. Everything else on the page (recall, certificate, where on sale) is read afresh for
# every request.
def journal_cached(lot: Lot, kind: str, build, *extra_key):
    """`build(events)` for the lot's journal (HTML of the page, JSON or EPCIS events of the API), kept per journal
    version, locale and `extra_key` (e.g. the public base of absolute URLs); the events are loaded only when needed."""
    if not current_app.config.get("TRACE_JOURNAL_CACHE_SIZE", 0):
        return build(journal_of(lot.id))
    key = repr((kind, lot.id, journal_version(lot.id), str(get_locale()), *extra_key))
    value = journal_cache.get(key)
    if value is None:
        value = build(journal_of(lot.id))
        journal_cache.set(key, value)
    return value


def timeline_html(lot: Lot) -> Markup:
    return journal_cached(lot, "html", lambda events: Markup(render_template(
        "traceability/_timeline.html", timeline=timeline(events), lot=lot, quantity=quantity_formatter())))


@lru_cache(maxsize=512)
def story_excerpt(story_md: str) -> Markup:
    """The start of a producer's story as safe HTML (Markdown rendering is slow; the text is the key)."""
    if len(story_md) > STORY_EXCERPT:
        story_md = story_md[:STORY_EXCERPT].rsplit(" ", 1)[0] + "…"
    return render_markdown(story_md)


def _render_trace(lot: Lot):
    day = today()
    view = trace_view(lot, day, events=[])
    points = [] if lot.is_recalled else points_holding(lot.id)
    response = current_app.make_response(render_template(
        "traceability/trace.html", trace=view, lot=lot, product=view.product, producer=view.producer,
        points=points, day=day, link=lot_link(lot), timeline_html=timeline_html(lot),
        story_html=story_excerpt(view.producer.story_md or "")))
    # Scanned on the shelf: always asked afresh, so a recall shows at once.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/t/<code>")
def trace(code: str):
    return _render_trace(_lot_or_404(code))


@bp.route("/t/<code>/files/<int:attachment_id>")
def attachment(code: str, attachment_id: int):
    lot = _lot_or_404(code)
    found = attachment_of_lot(lot.id, attachment_id)
    if found is None:
        abort(404)
    try:
        path = attachment_path(current_app.config["UPLOAD_DIR"], UPLOAD_SUBDIR, found.stored_name)
    except FileRejected:
        abort(404)
    if not path.is_file():
        abort(404)
    suffix = ".pdf" if found.kind == AttachmentKind.DOCUMENT else ".jpg"
    name = secure_filename(found.original_name) or f"file{suffix}"
    response = send_file(path, mimetype=found.content_type, as_attachment=False, download_name=name, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/t/<code>/qr.svg")
def qr_code_svg(code: str):
    lot = _lot_or_404(code)
    response = current_app.response_class(qr_svg(lot_link(lot)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/t/<code>/qr.png")
def qr_code_png(code: str):
    lot = _lot_or_404(code)
    scale = request.args.get("scale", "8")
    if not (scale.isascii() and scale.isdigit()) or int(scale) not in QR_SCALES:
        abort(400)
    response = current_app.response_class(qr_png(lot_link(lot), int(scale)), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# --- GS1 Digital Link ---------------------------------------------------------------------------------------

def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _bad_gtin(error: BadGtin):
    if _wants_json():
        return json_error(400, error.code, error.message)
    return render_template("errors/error.html", status=400, title=_("Invalid barcode number"),
                           message=error.message), 400


def _product_of_link(gtin: str):
    product = product_by_gtin(parse_gtin(gtin))
    if product is None:
        if _wants_json():
            return None, json_error(404, "not_found", _("No product has the GTIN %(gtin)s.", gtin=gtin))
        abort(404)
    return product, None


@bp.route("/01/<gtin>")
def digital_link_product(gtin: str):
    try:
        product, refused = _product_of_link(gtin)
    except BadGtin as error:
        return _bad_gtin(error)
    if refused:
        return refused
    return redirect(url_for("catalog.product_detail", slug=product.slug))


@bp.route("/01/<gtin>/10/<path:lot_code>")
def digital_link_lot(gtin: str, lot_code: str):
    try:
        product, refused = _product_of_link(gtin)
    except BadGtin as error:
        return _bad_gtin(error)
    if refused:
        return refused
    lot = lot_of_product(product.id, lot_code)
    if lot is None:
        flash(_("Lot “%(lot)s” was not found for this product. Here is the product page.", lot=lot_code[:60]),
              "warning")
        return redirect(url_for("catalog.product_detail", slug=product.slug))
    return _render_trace(_lot_or_404(lot.trace_code))  # 404 for a draft product's lot or one still in production
