"""Web glue shared by every page: locale, Jinja filters, errors as HTML or JSON, security headers, media."""
import hmac
import posixpath
import re
from collections.abc import Callable
from functools import wraps

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    has_request_context,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from shop.core.admin_units import former_district_name, short_address
from shop.core.clock import format_date, format_datetime, today
from shop.core.errors import DomainError, StaleRead
from shop.core.images import IMAGE_SUBDIR, rendition_path, rendition_widths
from shop.core.money import format_vnd
from shop.core.pagination import MAX_PAGE
from shop.core.text import render_markdown
from shop.core.unit_of_work import unit_of_work
from shop.extensions import db, page_cache


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and services run outside requests
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang") or session.get("lang")
    if wanted in languages:
        return wanted
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def init_app(app: Flask) -> None:
    app.add_template_filter(format_vnd, "money")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_global(srcset, "srcset")
    app.add_template_global(image_url, "image_url")
    app.add_template_global(stars_text, "stars_text")
    app.add_template_global(today, "today")
    app.add_template_global(url_with, "url_with")
    app.add_template_global(former_district_name, "former_district_name")
    app.add_template_global(short_address, "short_address")
    app.add_template_global(live_fragment, "live_fragment")
    app.extensions["live_nonce"] = live_nonce(app.config["SECRET_KEY"])
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.add_extension("jinja2.ext.i18n")

    app.add_url_rule("/media/<path:filename>", "media", serve_media)
    app.add_url_rule("/lang/<code>", "set_language", set_language, methods=["GET"])
    app.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})
    app.after_request(security_headers)
    app.after_request(fill_live_fragments)
    register_error_handlers(app)


# --- pictures ---------------------------------------------------------------------------------------

def image_url(image, width: int = 640, ext: str = "webp") -> str:
    widths = rendition_widths(image.width, current_app.config["IMAGE_WIDTHS"])
    chosen = min((w for w in widths if w >= width), default=widths[-1])
    return url_for("media", filename=rendition_path(image.stem, chosen, ext))


def srcset(image, ext: str = "webp") -> str:
    widths = rendition_widths(image.width, current_app.config["IMAGE_WIDTHS"])
    return ", ".join(f"{url_for('media', filename=rendition_path(image.stem, w, ext))} {w}w" for w in widths)


def serve_media(filename: str):
    # Only the public picture renditions: trace attachments and audit evidence live in other folders of the
    # upload directory and are served by their own routes, which check who may see them.
    if not posixpath.normpath(filename).startswith(f"{IMAGE_SUBDIR}/") or ".." in filename.split("/"):
        abort(404)
    response = send_from_directory(current_app.config["UPLOAD_DIR"], filename, max_age=31536000)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- text helpers -------------------------------------------------------------------------------------

def stars_text(stars: int) -> str:
    """What a screen reader says for a star badge."""
    return _("%(n)s-star OCOP product", n=stars)


def url_with(**changes) -> str:
    """The current page's URL with some query parameters changed (None removes one); page resets to 1."""
    args = request.args.to_dict(flat=False)
    if "page" not in changes:
        args.pop("page", None)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def page_arg(name: str = "page") -> int:
    """The page number a list was asked for (?page=): missing, not a number or below 1 is page 1, a huge number is
    MAX_PAGE (the query then shows its last page, core.pagination.clamp_page). Never raises: a tampered URL is no
    500."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > len(str(MAX_PAGE)):  # int() of thousands of digits is slow, then refused
        return MAX_PAGE
    return min(max(1, int(raw)), MAX_PAGE)


MAX_ID = 2**63 - 1  # the largest integer a database column holds: SQLite refuses to even compare a larger one


def id_arg(name: str) -> int | None:
    """An id given in the query string (?set=, ?level=): None when missing, not a number or too large for any
    column (a tampered URL is then treated as no choice, never a 500)."""
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        return None
    return int(raw)


class IdConverter(IntegerConverter):
    """`<int:…>` in URLs: a number larger than any id is an unknown page (404), not a database overflow (500).
    Registered by create_app before the routes."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def safe_local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site: browsers drop tabs and newlines and read "\\" as "/", so "/\t/evil.example"
    or "/\\evil.example" would leave the site."""
    if not target:
        return default
    cleaned = re.sub(r"[\x00-\x1f\x7f]", "", target).strip().replace("\\", "/")
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return default
    return cleaned


def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_local_path(request.args.get("next"), url_for("catalog.home")))


# --- forms -----------------------------------------------------------------------------------------------

def again_if_stale(action):
    """Run `action()`; if it lost a race on a row it had read (StaleRead), roll back and run it once more on fresh
    data: it then succeeds if it still applies, or is refused the way a fresh page would be."""
    try:
        return action()
    except StaleRead:
        db.session.rollback()  # expires what was read: the second run reads the winner's result
        return action()


def _show_on_field(form, message: str, field_name: str | None, default_field: str) -> None:
    field = getattr(form, field_name or "", None) or getattr(form, default_field)
    field.errors = [*field.errors, message]


def submit_form(form, action, *, success: str, default_field: str) -> bool:
    """The write view's whole protocol: validate the posted form, run `action()` (one service call), commit
    and flash `success`. A DomainError rolls back and shows its message on the field it names. True when the
    change was made (the view then redirects)."""
    if not form.validate_on_submit():
        return False
    done, _result = _commit_or_show(form, action, success=success, default_field=default_field)
    return done


def _commit_or_show(form, action, *, success: str, default_field: str) -> tuple[bool, object]:
    """(True, what `action()` returned) once committed and `success` flashed; (False, None) after a refusal,
    rolled back and shown on the field it names."""
    try:
        with unit_of_work():
            result = again_if_stale(action)
    except DomainError as error:
        _show_on_field(form, error.message, error.field, default_field)
        return False, None
    flash(success, "success")
    return True, result


class _AlreadyDone(Exception):
    """Control flow inside submit_creating_form: the same form was already submitted; its result is at `url`."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def submit_creating_form(form, kind: str, create, url_of, *, success: str, default_field: str,
                         redirect_code: int = 302):
    """`submit_form` for a form that creates something (an order, a sale, a receipt…) and carries a one-time key
    (core.forms.OnceKeyForm): the key is recorded with the result in the same transaction, and a second post with
    the same key — a double click, a retry — is sent to the first result's page, creating nothing. Returns the
    redirect to show, or None when the form is to be shown again with its messages."""
    from shop.core import once

    key = form.posted_once_key()

    def already_done(earlier: str):
        db.session.rollback()
        flash(_("This was already done: here is the result of the first submission."), "info")
        return redirect(earlier or request.path, redirect_code)

    # Before validating: the first submission may have changed what the form is checked against (the units left
    # to refund), and the repeat must still land on its result.
    if key is not None and once.is_key(key) and (earlier := once.result_of(kind, key)) is not None:
        return already_done(earlier)
    if not form.validate_on_submit():
        return None
    if key is not None and not once.is_key(key):
        _show_on_field(form, _("The form is damaged. Please reload the page and try again."), None, default_field)
        return None

    def attempt() -> str:
        earlier = once.begin(kind, key) if key else None
        if earlier is not None:
            raise _AlreadyDone(earlier)
        url = url_of(create())
        if key:
            once.finish(kind, key, url)
        return url

    try:
        done, url = _commit_or_show(form, attempt, success=success, default_field=default_field)
    except _AlreadyDone as repeat:
        return already_done(repeat.url)
    return redirect(url, redirect_code) if done else None


def form_status() -> int:
    """400 for a form post that was refused (so tests and tools see the failure), 200 for a plain view."""
    return 400 if request.method == "POST" else 200


# --- page cache ----------------------------------------------------------------------------------------

def cached_page(view):
    """Serve a storefront page from the page cache (shared by the workers when CACHE_REDIS_URL is set) for
    anonymous visitors. The key holds the catalogue version and today's date, so any committed catalogue change
    (or midnight) makes every entry stale; pages that set a cookie or show a one-off message are never stored.
    Stock does not bump the version: what depends on it is a live fragment (below), stored as its mark and filled
    in for each response."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if (not current_app.config.get("PAGE_CACHE_SIZE", 0) or request.method not in ("GET", "HEAD")
                or current_user.is_authenticated or "_flashes" in session):
            return view(*args, **kwargs)
        from shop.search.versioning import current_version

        key = repr((request.full_path, str(get_locale()), current_version(), today().isoformat()))
        body = page_cache.get(key)
        if body is not None:
            return current_app.response_class(body, mimetype="text/html")
        response = make_response(view(*args, **kwargs))
        if (response.status_code == 200 and not session.modified and "Set-Cookie" not in response.headers
                and not response.direct_passthrough):
            page_cache.set(key, response.get_data())
        return response

    return wrapped


# --- live fragments ------------------------------------------------------------------------------------
# A cached page may hold a part that changes without the catalogue version changing (stock: every sale
# changes it). The page body keeps a mark where that part goes and the part is rendered afresh for every
# response, cached or not, by one small query. The mark carries a secret drawn from SECRET_KEY so that no text
# a user wrote (a description, a story) can pass for one; every worker draws the same, so a page another worker
# stored in the shared cache gets its fragments too.

_live_renderers: dict[str, Callable[..., str]] = {}
_LIVE_MARK = re.compile(rb"<!--live:([0-9a-f]{16}):([a-z_]{1,40}):([0-9]{1,18}(?:\.[0-9]{1,18}){0,3})-->")


def live_nonce(secret_key: str | bytes) -> str:
    """The secret of the marks: 16 hex digits, the same in every worker of one installation."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, b"live-fragment-mark", "sha256").hexdigest()[:16]


def live_renderer(name: str):
    """Register `render(*keys: int) -> str` (HTML) as the live fragment `name`; views register theirs at
    import."""

    def register(render: Callable[..., str]):
        _live_renderers[name] = render
        return render

    return register


def live_fragment(name: str, *keys: int) -> Markup:
    """Template global: the mark where fragment `name` goes; `keys` (ids, a page number) are what its renderer
    is called with."""
    if name not in _live_renderers:
        raise KeyError(f"no live fragment named {name!r}")
    return Markup(f"<!--live:{current_app.extensions['live_nonce']}:{name}:"
                  f"{'.'.join(str(int(key)) for key in keys)}-->")


def fill_live_fragments(response):
    """after_request: replace each mark of an HTML response by its freshly rendered fragment."""
    if response.direct_passthrough or response.mimetype != "text/html":
        return response
    body = response.get_data()
    if b"<!--live:" not in body:
        return response
    nonce = current_app.extensions["live_nonce"].encode()

    def render(match: re.Match) -> bytes:
        if match.group(1) != nonce:
            return match.group(0)  # not ours: leave the comment as it was written
        keys = (int(key) for key in match.group(3).split(b"."))
        return str(_live_renderers[match.group(2).decode()](*keys)).encode()

    response.set_data(_LIVE_MARK.sub(render, body))
    return response


def render_block(template_name: str, block: str, **context) -> str:
    """One block of a template rendered alone, with the usual template context (request, user, globals): a
    page template keeps its live fragment beside the page that shows it."""
    template = current_app.jinja_env.get_template(template_name)
    current_app.update_template_context(context)
    return "".join(template.blocks[block](template.new_context(context)))


# --- security ------------------------------------------------------------------------------------------

CSP = ("default-src 'self'; img-src 'self' data: https://*.tile.openstreetmap.org; script-src 'self'; "
       "style-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config.get("CONTENT_SECURITY_POLICY", CSP))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


# --- errors --------------------------------------------------------------------------------------------

def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 429: "rate_limited", 500: "server_error"}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("The form has expired or did not come from this site. Please reload the page and try again.")
        if wants_json():
            return json_error(400, "csrf_failed", message)
        return render_template("errors/error.html", status=400, title=_("Form expired"), message=message), 400

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            return json_error(error.status, error.code, error.message)
        return render_template("errors/error.html", status=error.status, title=_("Request refused"),
                               message=error.message), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        messages = {
            404: _("We could not find that page."),
            403: _("You do not have access to this page."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
            405: _("That action is not allowed here."),
        }
        message = messages.get(status, error.description or "")
        if wants_json():
            response, status = json_error(status, ERROR_CODES.get(status, "http_error"), message)
            if getattr(error, "valid_methods", None):
                response.headers["Allow"] = ", ".join(error.valid_methods)  # HTTP requires it on a 405
            return response, status
        return render_template("errors/error.html", status=status, title=error.name, message=message), status

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        db.session.rollback()
        current_app.logger.exception("Unhandled error on %s", request.path)
        message = _("Something went wrong on our side. Nothing was changed; please try again.")
        if wants_json():
            return json_error(500, "server_error", message)
        return render_template("errors/error.html", status=500, title=_("Server error"), message=message), 500
