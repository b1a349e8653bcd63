"""Cart and checkout pages. A guest's cart lives in the session ({"<product_id>": quantity}); a customer's is
stored (CartLine) and the guest's lines join it at login. Every refusal re-renders the page with 400 after a
rollback: nothing created, nothing held."""
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in

from shop.catalog.models import Product
from shop.checkout import services
from shop.checkout.forms import CartLineForm, CartRemoveForm, CheckoutForm, choices
from shop.core import admin_units, once
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.unit_of_work import unit_of_work
from shop.extensions import db, limiter
from shop.orders.models import OrderPaymentMethod
from shop.orders.services import Address, Contact
from shop.web import live_renderer

bp = Blueprint("checkout", __name__)
CART_KEY = "cart"


# ------------------------------------------------------------------------------------------ the cart

def _max_quantity() -> int:
    return current_app.config["MAX_QUANTITY_PER_PRODUCT"]


def _alcohol_online() -> bool:
    return current_app.config["ALCOHOL_ONLINE_SALES"]


def _guest_cart() -> dict[int, int]:
    return services.clean_lines(session.get(CART_KEY) or {})


def _save_guest_cart(cart: dict[int, int]) -> None:
    session[CART_KEY] = {str(product_id): quantity for product_id, quantity in cart.items()}


def current_cart() -> dict[int, int]:
    if current_user.is_authenticated:
        return services.stored_cart(current_user)
    return _guest_cart()


def _product_id(form) -> int:
    product_id = services.clean_ids({form.product_id.data: 1})
    if not product_id:
        abort(400)
    return product_id[0]


def _render_cart(errors=(), status: int = 200):
    view = services.cart_view(current_cart(), alcohol_online=_alcohol_online())
    return render_template("checkout/cart.html", cart=view, errors=list(errors),
                           max_quantity=_max_quantity()), status


def _cart_change(form, change, success: str):
    """Run one cart change (a service call for a customer, or a new session cart for a guest); a refusal shows
    the cart with the message and 400."""
    if not form.validate_on_submit():
        return _render_cart([_("The form has expired. Please submit it again.")], 400)
    try:
        with unit_of_work():
            change()
    except DomainError as error:
        return _render_cart([error.message], 400)
    flash(success, "success")
    return redirect(url_for(".cart"), 303)


@bp.route("/cart")
def cart():
    return _render_cart()


@bp.route("/cart/add", methods=["POST"])
def cart_add():
    form = CartLineForm()
    product = db.session.get(Product, _product_id(form))
    if product is None:
        abort(404)

    def add():
        if current_user.is_authenticated:
            services.add_to_stored_cart(current_user, product, form.quantity.data, _max_quantity(),
                                        alcohol_online=_alcohol_online())
        else:
            _save_guest_cart(services.add_line(_guest_cart(), product, form.quantity.data,
                                               max_quantity=_max_quantity(), alcohol_online=_alcohol_online()))

    return _cart_change(form, add, _("%(name)s is in your cart.", name=product.name))


@bp.route("/cart/update", methods=["POST"])
def cart_update():
    form = CartLineForm()
    product_id = _product_id(form)

    def update():
        if current_user.is_authenticated:
            services.update_stored_cart(current_user, product_id, form.quantity.data, _max_quantity())
        else:
            _save_guest_cart(services.set_line(_guest_cart(), product_id, form.quantity.data,
                                               max_quantity=_max_quantity()))

    return _cart_change(form, update, _("Your cart is updated."))


@bp.route("/cart/remove", methods=["POST"])
def cart_remove():
    form = CartRemoveForm()
    product_id = _product_id(form)

    def remove():
        if current_user.is_authenticated:
            services.remove_from_stored_cart(current_user, product_id)
        else:
            _save_guest_cart(services.remove_line(_guest_cart(), product_id))

    return _cart_change(form, remove, _("The product is removed from your cart."))


@live_renderer("add_to_cart")
def add_to_cart_form(product_id: int) -> str:
    """The product page's "Add to cart" form: rendered for each response (it holds the visitor's CSRF token),
    also when the page itself comes from the page cache."""
    return render_template("checkout/_add_to_cart.html", product_id=product_id, form=CartLineForm(formdata=None),
                           max_quantity=_max_quantity())


@live_renderer("cart_link")
def cart_link(_unused: int = 0) -> str:
    """The header's link to the cart with the number of units in it, for layouts/base.html:
    `{{ live_fragment('cart_link', 0) }}` (live, since the page around it may come from the page cache)."""
    count = sum(current_cart().values())
    return render_template("checkout/_cart_link.html", count=count)


# ---------------------------------------------------------------------------------------------- login

def _merge_guest_cart(app, user, **_extra) -> None:
    """user_logged_in: the lines a visitor put in the cart before logging in join the stored cart, in the login's
    unit of work (accounts.views)."""
    guest_cart = session.pop(CART_KEY, None)
    if guest_cart:
        services.merge_session_cart(user, guest_cart, app.config["MAX_QUANTITY_PER_PRODUCT"])


@bp.record_once
def _connect_login_merge(state) -> None:
    user_logged_in.connect(_merge_guest_cart, state.app)


# ------------------------------------------------------------------------------------------- checkout

def _prefill(form: CheckoutForm) -> None:
    if current_user.is_authenticated and request.method == "GET":
        form.name.data = form.name.data or current_user.full_name
        form.email.data = form.email.data or current_user.email
        form.phone.data = form.phone.data or current_user.phone


def _fill_choices(form: CheckoutForm, points) -> None:
    if not admin_units.province_name(form.province_code.data):  # none chosen yet, or not a province code
        form.province_code.data = current_app.config["HOME_PROVINCE_CODE"]
    form.province_code.choices = choices(admin_units.provinces())
    form.ward_code.choices = choices([("", _("Choose…")), *admin_units.wards(form.province_code.data)])
    form.pickup_point.choices = choices([(point.code, point.name) for point in points])


def _show_refusal(form: CheckoutForm, error: DomainError, errors: list[str]) -> None:
    field = getattr(form, error.field or "", None)
    if field is None or field.name in ("csrf_token", "submit", "refresh"):
        errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


def _place(form: CheckoutForm, cart: dict[int, int]):
    delivery = form.fulfilment.data == "delivery"
    address = Address(form.province_code.data, form.ward_code.data, form.street.data or "") if delivery else None
    return services.place_order(
        cart, fulfilment=form.fulfilment.data or "", payment_method=form.payment_method.data or "",
        contact=Contact(form.name.data or "", form.phone.data or "", form.email.data or ""), address=address,
        pickup_point_code=form.pickup_point.data, customer=current_user if current_user.is_authenticated else None,
        locale=str(get_locale()), age_confirmed=bool(form.age_confirmed.data), config=current_app.config)


def _order_url(order) -> str:
    """The URL contract: card orders go to their payment page, the others to the order page (the key lets a
    guest in)."""
    page = "/pay" if order.payment_method == OrderPaymentMethod.CARD else ""
    return f"/orders/{order.number}{page}?{urlencode({'key': order.access_key})}"


def _checkout_limit() -> str:
    return current_app.config["CHECKOUT_RATE_LIMIT"]


def _contact_limit() -> str:
    return current_app.config["CHECKOUT_CONTACT_RATE_LIMIT"]


def _posted_phone() -> str:
    """Limiter key: the phone typed, normalised, so that "0912 345 678" and "+84912345678" count together. An empty
    field counts per address: one bucket for everyone's empty field would throttle them all together."""
    raw = (request.form.get("phone") or "").strip()
    try:
        return "checkout-phone:" + services.normalise_phone(raw)
    except DomainError:
        return "checkout-phone:" + (raw or f"none@{request.remote_addr}")


def _posted_email() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "checkout-email:" + (email or f"none@{request.remote_addr}")


def _refreshing() -> bool:
    """Listing another province's communes (the no-JavaScript round trip) places nothing: not counted."""
    return bool(request.form.get("refresh"))


@bp.route("/checkout", methods=["GET", "POST"])
@limiter.limit(_checkout_limit, methods=["POST"], exempt_when=_refreshing)
@limiter.limit(_contact_limit, key_func=_posted_phone, methods=["POST"], exempt_when=_refreshing)
@limiter.limit(_contact_limit, key_func=_posted_email, methods=["POST"], exempt_when=_refreshing)
def checkout():
    form, errors = CheckoutForm(), []
    _prefill(form)
    if request.method == "GET" and not current_cart():
        flash(_("Your cart is empty."), "info")
        return redirect(url_for(".cart"))
    key = form.posted_once_key()
    if form.validate_on_submit() and not form.refresh.data:
        cart = current_cart()
        try:
            with unit_of_work() as unit:
                if key is not None and not once.is_key(key):
                    raise DomainError(_("The form is damaged. Please reload the page and try again."),
                                      code="bad_key")
                # A second post of the same form (a double click, a retry) shows the first order; it places nothing.
                earlier = once.begin("checkout", key) if key else None
                if earlier is None:
                    order_url = _order_url(_place(form, cart))
                    if key:
                        once.finish("checkout", key, order_url)
                else:
                    unit.keep = False
                    order_url = earlier or url_for(".cart")
        except DomainError as error:
            _show_refusal(form, error, errors)
        else:
            session.pop(CART_KEY, None)
            return redirect(order_url, 303)
    refused = request.method == "POST" and not form.refresh.data
    return _render_checkout(form, errors), 400 if refused else 200


def _render_checkout(form: CheckoutForm, errors: list[str]):
    config = current_app.config
    view = services.cart_view(current_cart(), alcohol_online=config["ALCOHOL_ONLINE_SALES"])
    points = services.pickup_points_for(view.quantities(), today())
    _fill_choices(form, points)
    delivery_point = services.delivery_point(config.get("DELIVERY_POINT_CODE"))
    fee = services.shipping_fee_from_config(form.province_code.data, view.subtotal_vnd, config)
    return render_template(
        "checkout/checkout.html", form=form, cart=view, errors=errors, points={p.code: p for p in points},
        can_deliver=delivery_point is not None and delivery_point in points, shipping_fee=fee,
        free_from=config["FREE_SHIPPING_FROM_VND"],
        province_name=admin_units.province_name(form.province_code.data))
