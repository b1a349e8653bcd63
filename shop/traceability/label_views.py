"""Printable label sheets (PDF) of a producer's lot: /manage/producer/lots/<id>/labels.pdf?copies=N."""
from flask import Blueprint, abort, current_app, request
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from shop.traceability.access import own_lot, producer_portal_guard
from shop.traceability.labels import MAX_COPIES, PER_PAGE, render_label_sheet
from shop.traceability.views import public_base

bp = Blueprint("trace_labels", __name__)
bp.before_request(producer_portal_guard)


@bp.route("/lots/<int:lot_id>/labels.pdf")
def label_sheet(lot_id: int):
    lot = own_lot(lot_id)  # another producer's lot: 404
    raw = request.args.get("copies", str(PER_PAGE)).strip()
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_COPIES:
        abort(400, description=_("The number of labels must be a whole number from 1 to %(max)s.", max=MAX_COPIES))
    pdf = render_label_sheet(lot, int(raw), base_url=public_base())
    response = current_app.response_class(pdf, mimetype="application/pdf")
    name = secure_filename(f"labels-{lot.lot_code}.pdf") or "labels.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
