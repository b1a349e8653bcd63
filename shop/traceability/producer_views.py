"""The producer portal under /manage/producer: lots and their traceability journal. A producer account sees
only its own producer's lots (another producer's lot id is a 404); an admin sees every producer's."""
from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.catalog import queries as catalog_queries
from shop.core.clock import VN_TZ
from shop.core.models import utcnow
from shop.core.uploads import FileRejected, attachment_path
from shop.inventory.queries import lot_on_sale_at
from shop.traceability import queries, services
from shop.traceability.access import current_producer, own_lot, producer_portal_guard
from shop.traceability.forms import (
    INPUT_ROWS,
    EventForm,
    LotForm,
    LotStatusForm,
    choices,
)
from shop.traceability.models import PRODUCER_EVENT_TYPES, LotStatus, TraceEventType
from shop.web import form_status, page_arg, submit_form

bp = Blueprint("trace_producer", __name__)
bp.before_request(producer_portal_guard)


@bp.context_processor
def labels():
    return {"event_labels": TraceEventType.labels(), "lot_status_labels": LotStatus.labels(),
            "producer_event_types": PRODUCER_EVENT_TYPES}


def _own_products():
    producer = current_producer()
    if producer is None:
        return catalog_queries.all_products(limit=500) if current_user.is_admin else []
    return catalog_queries.products_of_producer(producer.id, published_only=False)


def _producer_id() -> int | None:
    """The producer whose lots are shown: the account's own; None for an admin (every producer)."""
    if current_user.is_admin:
        return None
    producer = current_producer()
    if producer is None:
        abort(404)
    return producer.id


@bp.route("")
def home():
    producer = current_producer()
    products = _own_products() if producer is not None or current_user.is_admin else []
    lots = (queries.lots_of_producer(None if current_user.is_admin else producer.id, per_page=10)
            if producer is not None or current_user.is_admin else None)
    counts = queries.event_counts([lot.id for lot in lots.items]) if lots else {}
    return render_template("traceability/producer/home.html", producer=producer, products=products, lots=lots,
                           counts=counts)


@bp.route("/lots")
def lot_list():
    producer_id = _producer_id()
    q = (request.args.get("q") or "").strip()[:100]
    try:
        status = LotStatus(request.args.get("status")) if request.args.get("status") else None
    except ValueError:
        status = None
    page = queries.lots_of_producer(producer_id, q=q, status=status, page=page_arg())
    return render_template("traceability/producer/lot_list.html", page=page, q=q, status=status,
                           counts=queries.event_counts([lot.id for lot in page.items]),
                           show_producer=producer_id is None)


@bp.route("/lots/new", methods=["GET", "POST"])
def lot_create():
    products = _own_products()
    form = LotForm()
    form.product_id.choices = choices((p.id, p.name if not current_user.is_admin else f"{p.name} · {p.producer.name}")
                                      for p in products)
    if request.method == "GET" and request.args.get("product", "").isdigit():
        form.product_id.data = int(request.args["product"])
    by_id = {p.id: p for p in products}
    created = []
    if submit_form(form, lambda: created.append(services.create_lot(
            by_id[form.product_id.data], lot_code=form.lot_code.data, production_date=form.production_date.data,
            expiry_date=form.expiry_date.data, quantity=form.quantity.data, status=form.status.data,
            note=form.note.data, actor=current_user)),
            success=_("The lot is created. Record its steps below."), default_field="lot_code"):
        return redirect(url_for(".lot_detail", lot_id=created[0].id))
    return render_template("traceability/producer/lot_form.html", form=form, products=products), form_status()


def _event_form(lot, formdata=None, corrects=None) -> EventForm:
    province = lot.product.producer.province_code or current_app.config["HOME_PROVINCE_CODE"]
    if formdata is not None:
        return EventForm(province_code=province)
    form = EventForm(formdata=None, province_code=province)
    if corrects is not None:
        # A correction starts from the event it corrects: the producer changes what was wrong.
        form.event_type.data = corrects.event_type.value
        form.occurred_at.data = corrects.occurred_at.astimezone(VN_TZ).replace(tzinfo=None, second=0, microsecond=0)
        form.place.data = corrects.place
        form.ward_code.data = corrects.ward_code or 0
        form.actor_name.data = corrects.actor_name
        form.previous_step.data = corrects.previous_step
        form.next_step.data = corrects.next_step
        form.description.data = corrects.description
        form.corrects.data = str(corrects.id)
        for row, item in zip(form.inputs, corrects.inputs[:INPUT_ROWS], strict=False):
            row.form.material.data, row.form.supplier.data = item.material, item.supplier
            row.form.origin.data, row.form.quantity.data = item.origin, f"{item.quantity.normalize():f}"
            row.form.unit.data, row.form.supplier_lot.data = item.unit, item.supplier_lot
    else:
        form.occurred_at.data = utcnow().astimezone(VN_TZ).replace(tzinfo=None, second=0, microsecond=0)
        form.actor_name.data = lot.product.producer.name
    return form


def _render_detail(lot, event_form=None, status_form=None, correcting=None, status=200):
    timeline = queries.lot_timeline(lot)
    if correcting is None and event_form is not None and event_form.corrects_id():
        correcting = next((e.event for e in timeline if e.event.id == event_form.corrects_id()), None)
    return render_template("traceability/producer/lot_detail.html", lot=lot, timeline=timeline,
                           event_form=event_form or _event_form(lot),
                           status_form=status_form or LotStatusForm(formdata=None, status=lot.status.value),
                           correcting=correcting, on_sale=[] if lot.is_recalled else lot_on_sale_at(lot.id),
                           recall_url=_recall_url(lot)), status


def _recall_url(lot) -> str | None:
    if lot.is_recalled or "recalls_producer_manage.producer_recall" not in current_app.view_functions:
        return None
    return url_for("recalls_producer_manage.producer_recall", lot_id=lot.id)


@bp.route("/lots/<int:lot_id>")
def lot_detail(lot_id: int):
    lot = own_lot(lot_id)
    correcting = None
    wanted = request.args.get("corrects", "")
    if wanted.isdigit():
        correcting = queries.get_event(int(wanted))
        if correcting is None or correcting.lot_id != lot.id or correcting.automatic:
            abort(404)
    return _render_detail(lot, event_form=_event_form(lot, corrects=correcting), correcting=correcting)


@bp.route("/lots/<int:lot_id>/events", methods=["POST"])
def event_create(lot_id: int):
    lot = own_lot(lot_id)
    form = _event_form(lot, formdata=request.form)
    if submit_form(form, lambda: services.record_event(
            lot, **form.values(), attachments=form.files(), upload_dir=current_app.config["UPLOAD_DIR"],
            recorded_by=current_user),
            success=_("The step is added to the journal."), default_field="description"):
        return redirect(url_for(".lot_detail", lot_id=lot.id, _anchor="timeline-title"))
    return _render_detail(lot, event_form=form, status=400)


@bp.route("/lots/<int:lot_id>/status", methods=["POST"])
def lot_status(lot_id: int):
    lot = own_lot(lot_id)
    form = LotStatusForm()
    if submit_form(form, lambda: services.update_lot_status(lot, form.status.data, current_user),
                   success=_("The status of the lot is changed."), default_field="status"):
        return redirect(url_for(".lot_detail", lot_id=lot.id))
    return _render_detail(lot, status_form=form, status=400)


@bp.route("/attachments/<int:attachment_id>")
def attachment_file(attachment_id: int):
    """The file backing an event, for the lot's owner (or an admin)."""
    attachment = queries.get_attachment(attachment_id)
    if attachment is None:
        abort(404)
    own_lot(attachment.event.lot_id)
    try:
        path = attachment_path(current_app.config["UPLOAD_DIR"], services.UPLOAD_SUBDIR, attachment.stored_name)
    except FileRejected:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, download_name=attachment.original_name,
                         as_attachment=request.args.get("download") == "1", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
