"""The certificates registry under /department/certificates: the list with filters, a certificate's history,
recording one certificate, withdrawing or downgrading one, the expiring list, and the bulk import (upload ->
preview -> commit) with its template."""
import io
import re
import secrets
import time
from pathlib import Path

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
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.audit import certificate_alerts
from shop.catalog.groups import GROUPS
from shop.catalog.models import Product
from shop.certification import imports, queries, services
from shop.certification.models import IssuingLevel
from shop.certification.registry_forms import (
    STATUS_LABELS,
    CertificateForm,
    DowngradeForm,
    ImportForm,
    WithdrawForm,
)
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.unit_of_work import roll_back, unit_of_work
from shop.extensions import db
from shop.web import form_status, page_arg, submit_form

bp = Blueprint("certificates", __name__)
bp.before_request(area_guard(Role.TRADE_OFFICER))

PER_PAGE = 50
SHOWN_ROWS = 1000          # rows shown in a preview table (errors are all listed)
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
KEEP_UPLOADS_SECONDS = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@bp.context_processor
def labels():
    return {"level_labels": IssuingLevel.labels(), "status_labels": STATUS_LABELS, "groups": GROUPS,
            "registry_status": queries.registry_status}


# ------------------------------------------------------------------------------------------------ list

def _int_arg(name: str, low: int, high: int) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


@bp.route("")
def registry():
    day = today()
    status = request.args.get("status") if request.args.get("status") in queries.REGISTRY_STATUSES else None
    level = request.args.get("level") if request.args.get("level") in {lv.value for lv in IssuingLevel} else None
    stars = _int_arg("stars", 1, 5)
    year = _int_arg("year", 1990, 2100)
    search = (request.args.get("q") or "").strip()[:100]
    query = queries.registry_query(day, status=status, stars=stars, level=level, year=year, search=search)
    page = db.paginate(query, page=page_arg(), per_page=PER_PAGE, error_out=False)
    if page.page > max(1, page.pages):  # past the end (a tampered or stale link): the last page
        page = db.paginate(query, page=max(1, page.pages), per_page=PER_PAGE, error_out=False)
    return render_template("certification/registry/list.html", page=page, day=day, status=status, level=level,
                           stars=stars, year=year, search=search, years=queries.registry_years(),
                           statuses=queries.REGISTRY_STATUSES, levels=list(IssuingLevel))


@bp.route("/expiring")
def expiring():
    day = today()
    certificates = queries.expiring_certificates(day)
    notices = certificate_alerts.notices_for([c.id for c in certificates])
    return render_template("certification/registry/expiring.html", certificates=certificates, day=day,
                           notices=notices, within=queries.EXPIRING_DAYS,
                           thresholds=certificate_alerts.THRESHOLDS)


@bp.route("/<int:certificate_id>")
def detail(certificate_id: int):
    return _detail(certificate_id)


def _detail(certificate_id: int, *, withdraw_form=None, downgrade_form=None, status: int = 200):
    certificate = queries.get_certificate(certificate_id)
    if certificate is None:
        abort(404)
    history = queries.certificate_history(certificate.product_id)
    return render_template(
        "certification/registry/detail.html", certificate=certificate, history=history, day=today(),
        decisions=queries.certificate_decisions([c.id for c in history]),
        notices=certificate_alerts.notices_for([certificate.id]).get(certificate.id, []),
        withdraw_form=withdraw_form or WithdrawForm(prefix="withdraw", formdata=None),
        downgrade_form=downgrade_form or DowngradeForm(prefix="downgrade", formdata=None)), status


# ------------------------------------------------------------------------------------------------ record

@bp.route("/new", methods=["GET", "POST"])
def new():
    form = CertificateForm()
    search = (request.args.get("q") or "").strip()[:100]
    chosen_id = form.product.data if request.method == "POST" else None
    form.set_products(queries.certificate_candidates(search, include_id=chosen_id))
    created = []

    def record():
        created.append(services.record_certificate(
            db.session.get(Product, form.product.data), stars=form.stars.data, score=form.score.data,
            level=form.level.data, decision_no=form.decision_no.data, decision_date=form.decision_date.data,
            valid_until=form.valid_until.data, actor=current_user))

    if request.method == "POST" and form.product.data and db.session.get(Product, form.product.data) is None:
        form.product.errors = [_("Choose a product.")]
    elif submit_form(form, record, success=_("The certificate is recorded."), default_field="decision_no"):
        return redirect(url_for(".detail", certificate_id=created[0].id))
    return render_template("certification/registry/form.html", form=form, search=search), form_status()


@bp.route("/<int:certificate_id>/withdraw", methods=["POST"])
def withdraw(certificate_id: int):
    certificate = queries.get_certificate(certificate_id) or abort(404)
    form = WithdrawForm(prefix="withdraw")
    if submit_form(form, lambda: services.withdraw_certificate(
            certificate, decision_no=form.decision_no.data, reason=form.reason.data, on=form.on.data,
            actor=current_user), success=_("The certificate is withdrawn."), default_field="reason"):
        return redirect(url_for(".detail", certificate_id=certificate_id))
    return _detail(certificate_id, withdraw_form=form, status=400)


@bp.route("/<int:certificate_id>/downgrade", methods=["POST"])
def downgrade(certificate_id: int):
    certificate = queries.get_certificate(certificate_id) or abort(404)
    form = DowngradeForm(prefix="downgrade")
    created = []

    def lower():
        created.append(services.downgrade_certificate(
            certificate, stars=form.stars.data, score=form.score.data, decision_no=form.decision_no.data,
            reason=form.reason.data, on=form.on.data, actor=current_user))

    if submit_form(form, lower, success=_("The certificate is downgraded."), default_field="stars"):
        return redirect(url_for(".detail", certificate_id=created[0].id))
    return _detail(certificate_id, downgrade_form=form, status=400)


# ------------------------------------------------------------------------------------------------ import

@bp.route("/template.<fmt>")
def template(fmt: str):
    if fmt not in imports.EXTENSIONS:
        abort(404)
    content = imports.template_xlsx() if fmt == "xlsx" else imports.template_csv()
    return send_file(io.BytesIO(content), mimetype=MIMETYPES[fmt], as_attachment=True,
                     download_name=f"ocop-certificates-template.{fmt}")


def _import_dir() -> Path:
    """Where uploads wait between the preview and the commit: IMPORT_DIR when set, else "imports" beside
    UPLOAD_DIR (never inside it: UPLOAD_DIR is served publicly under /media), else in the instance folder."""
    if current_app.config.get("IMPORT_DIR"):
        return Path(current_app.config["IMPORT_DIR"])
    if current_app.config.get("UPLOAD_DIR"):
        return Path(current_app.config["UPLOAD_DIR"]).resolve().parent / "imports"
    return Path(current_app.instance_path) / "imports"


def _forget_old_uploads(folder: Path) -> None:
    """Uploads previewed but never imported are deleted after a day."""
    limit = time.time() - KEEP_UPLOADS_SECONDS
    for path in folder.glob("certificates-*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


def _stored(token: str) -> Path:
    """The uploaded file kept for the preview; 404 for a token that is malformed or unknown (or already used)."""
    if not TOKEN.match(token):
        abort(404)
    for extension in imports.EXTENSIONS:
        path = _import_dir() / f"certificates-{token}.{extension}"
        if path.is_file():
            return path
    abort(404)


def _import_page(form: ImportForm, status: int = 200):
    return render_template("certification/registry/import.html", form=form, columns=imports.COLUMNS,
                           max_rows=imports.MAX_ROWS, max_mb=imports.MAX_FILE_BYTES // (1024 * 1024)), status


@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, form_status())
    upload = form.file.data
    content = upload.read(imports.MAX_FILE_BYTES + 1)
    filename = upload.filename or ""
    try:
        imports.read_sheet(content, filename)  # an unreadable file is refused here, with the upload form
    except DomainError as error:
        form.file.errors = [*form.file.errors, error.message]
        return _import_page(form, 400)
    token = secrets.token_urlsafe(24)
    extension = Path(filename).suffix.lower().lstrip(".")
    folder = _import_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _forget_old_uploads(folder)
    (folder / f"certificates-{token}.{extension}").write_bytes(content)
    return redirect(url_for(".import_preview", token=token), 303)


def _preview(path: Path) -> imports.ImportPreview:
    sheet = imports.read_sheet(path.read_bytes(), path.name)
    return imports.preview_import(sheet, province_code=current_app.config["HOME_PROVINCE_CODE"])


@bp.route("/import/<token>", methods=["GET", "POST"])
def import_preview(token: str):
    path = _stored(token)
    preview = _preview(path)
    if request.method == "POST":  # CSRFProtect has checked the token
        if preview.ok:
            try:
                with unit_of_work():
                    summary = imports.commit_import(preview, actor=current_user,
                                                    province_code=current_app.config["HOME_PROVINCE_CODE"])
            except DomainError as error:
                flash(error.message, "error")
                return redirect(url_for(".import_preview", token=token), 303)
            path.unlink(missing_ok=True)
            flash(ngettext("%(num)d certificate imported.", "%(num)d certificates imported.", summary.certificates)
                  + " " + _("New producers: %(producers)s; new products: %(products)s; already recorded: "
                            "%(skipped)s.", producers=summary.new_producers, products=summary.new_products,
                            skipped=summary.skipped), "success")
            return redirect(url_for(".registry"), 303)
        roll_back()  # nothing of a refused file is kept
        return _render_preview(token, preview, 400)
    return _render_preview(token, preview)


def _render_preview(token: str, preview: imports.ImportPreview, status: int = 200):
    return render_template("certification/registry/preview.html", token=token, preview=preview,
                           counts=preview.counts, rows=preview.rows[:SHOWN_ROWS], shown=SHOWN_ROWS,
                           errors=preview.errors), status
