"""Import and export of a point's stock and receipts as CSV and XLSX.

Exports and empty templates are downloads (GET, so trade officers may take them too); an import is a POST
(refused to officers by the guard) that stores every row or none: on any row error the page comes back with
status 400 and the table of errors, and the transaction is rolled back."""
import io
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField

from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.unit_of_work import unit_of_work
from shop.inventory import imports
from shop.inventory.spreadsheets import (
    EXTENSIONS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    read_table,
    write_csv,
    write_xlsx,
)
from shop.sales_points.access import can_change, point_area_guard, point_from_url

bp = Blueprint("files_point_manage", __name__)
bp.before_request(point_area_guard)

MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
RECEIPT_PERIOD_DAYS = 30  # the receipts export covers the last month unless the manager picks the dates
SHOWN_ERRORS = 200        # a wholly wrong file of 5,000 rows would make a page nobody reads


class ImportForm(FlaskForm):
    file = FileField(_l("File (.csv or .xlsx)"), validators=[
        FileRequired(_l("Choose a file to upload.")),
        FileAllowed(list(EXTENSIONS), _l("Upload a .csv or .xlsx file."))])
    dry_run = BooleanField(_l("Check only: report the problems but import nothing"))


def _import_form(kind: str, bound: bool) -> ImportForm:
    """The upload form of one kind. Both kinds share a page, so their fields get ids of their own; only the
    kind being posted reads the request."""
    form = ImportForm() if bound else ImportForm(formdata=None)
    for field in (form.file, form.dry_run):
        field.id = field.label.field_id = f"{kind}-{field.name}"
    return form


def _page(point, *, posted: str | None = None, form: ImportForm | None = None, errors=(), status: int = 200):
    forms = {kind: form if kind == posted else _import_form(kind, bound=False) for kind in imports.LAYOUTS}
    date_from, date_to = _default_period()
    return render_template("inventory/files/files.html", point=point, layouts=imports.LAYOUTS, forms=forms,
                           posted=posted, errors=list(errors)[:SHOWN_ERRORS], error_count=len(errors),
                           date_from=date_from, date_to=date_to, may_import=can_change(current_user, point),
                           max_mb=MAX_FILE_BYTES // (1024 * 1024), max_rows=MAX_ROWS), status


@bp.route("/<code>/files")
def files(code: str):
    return _page(point_from_url(code))


# --------------------------------------------------------------------------------------------- downloads

def _download(headers: list[str], rows, *, fmt: str, name: str, title: str):
    content = write_csv(headers, rows) if fmt == "csv" else write_xlsx(headers, rows, title)
    response = send_file(io.BytesIO(content), mimetype=MIMETYPES[fmt], as_attachment=True,
                         download_name=f"{name}.{fmt}")
    response.headers["Cache-Control"] = "private, no-store"  # a point's stock is not for shared caches
    return response


def _default_period(date_to: date | None = None) -> tuple[date, date]:
    date_to = date_to or today()
    return date_to - timedelta(days=RECEIPT_PERIOD_DAYS), date_to


def _receipt_period() -> tuple[date, date]:
    """The ?from=&to= of the receipts export (yyyy-mm-dd, as date inputs send them), the last month by default."""
    try:
        date_to = date.fromisoformat(request.args["to"]) if request.args.get("to") else today()
        date_from = (date.fromisoformat(request.args["from"]) if request.args.get("from")
                     else _default_period(date_to)[0])
    except ValueError:
        raise DomainError(_("Choose the dates of the receipts export as yyyy-mm-dd."), field="from") from None
    if date_from > date_to:
        raise DomainError(_("The first day of the receipts export is after the last one."), field="from")
    return date_from, date_to


@bp.route("/<code>/export/<what>.<fmt>")
def export(code: str, what: str, fmt: str):
    point = point_from_url(code)
    if fmt not in EXTENSIONS:
        abort(404)
    if what == "stock":
        return _download(imports.STOCK_HEADERS, imports.stock_rows(point), fmt=fmt,
                         name=f"{point.code}_stock_{today().isoformat()}", title=f"{point.code} {_('Stock')}")
    if what == "receipts":
        date_from, date_to = _receipt_period()
        return _download(imports.RECEIPT_HEADERS, imports.receipt_rows(point, date_from, date_to), fmt=fmt,
                         name=f"{point.code}_receipts_{date_from.isoformat()}_{date_to.isoformat()}",
                         title=f"{point.code} {_('Receipts')}")
    abort(404)


@bp.route("/<code>/template/<what>.<fmt>")
def template(code: str, what: str, fmt: str):
    """An empty file with the columns of one kind of import, to fill in."""
    point_from_url(code)
    layout = imports.LAYOUTS.get(what)
    if layout is None or fmt not in EXTENSIONS:
        abort(404)
    return _download(layout.headers, [], fmt=fmt, name=f"{what}_template", title=str(layout.title))


# ------------------------------------------------------------------------------------------------ import

@bp.route("/<code>/import/<what>", methods=["POST"])
def import_file(code: str, what: str):
    point = point_from_url(code)
    if what not in imports.LAYOUTS:
        abort(404)
    form = _import_form(what, bound=True)
    with unit_of_work() as unit:
        result = _run_import(point, what, form) if form.validate_on_submit() else None
        unit.keep = bool(result and result.ok) and not form.dry_run.data  # a refused file or a dry run: nothing
    if result is None or not result.ok:
        return _page(point, posted=what, form=form, errors=result.errors if result else (), status=400)
    if form.dry_run.data:
        flash(ngettext("Check passed: the %(num)d row is correct. Nothing was imported.",
                       "Check passed: all %(num)d rows are correct. Nothing was imported.", result.rows), "success")
    else:
        flash(ngettext("%(num)d row imported.", "%(num)d rows imported.", result.rows), "success")
    return redirect(url_for(".files", code=point.code), 303)


def _run_import(point, what: str, form: ImportForm) -> imports.ImportResult | None:
    """Read the upload and import it; None (with the reason on the file field) when the file cannot be read."""
    upload = form.file.data
    try:
        table = read_table(upload.read(MAX_FILE_BYTES + 1), upload.filename or "")
    except DomainError as error:
        form.file.errors = [*form.file.errors, error.message]
        return None
    if what == "receipts":
        return imports.import_receipts(point, table, current_user)
    return imports.import_count(point, table, current_user,
                                note=_("Imported from the file %(name)s", name=upload.filename or ""))
