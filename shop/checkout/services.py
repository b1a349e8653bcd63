"""The cart and placing an order. A guest's cart is plain data ({product_id: quantity}) that the view keeps in the
session; a customer's cart is CartLine rows, merged with the session cart at login. `place_order` re-checks
everything the cart said (prices come from the catalogue, never from the request), then creates the order with
its stock held (orders.create_order) and, for a card, starts the payment, all in the caller's transaction: a
refusal anywhere leaves nothing created and nothing held once the caller rolls back. Flush only."""
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import phonenumbers
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from shop.catalog.models import Product
from shop.checkout.limits import check_hold_caps
from shop.checkout.models import CartLine
from shop.checkout.queries import (  # noqa: F401 (re-exported: the checkout's reads, beside its use cases)
    CartProduct,
    cart_products,
    delivery_point,
    pickup_points_for,
    stored_cart,
    stored_line,
)
from shop.core import admin_units
from shop.core.clock import today
from shop.core.errors import DomainError
from shop.core.models import utcnow
from shop.core.text import nfc
from shop.extensions import db
from shop.orders.models import Fulfilment, Order, OrderPaymentMethod
from shop.orders.services import Address, Contact, Holds, create_order, expire_overdue
from shop.sales_points.queries import get_by_code

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")

# ------------------------------------------------------------------------------------------------ checks


def parse_quantity(value, *, max_quantity: int) -> int:
    """A quantity typed by a person: a whole number from 1 to the per-product limit."""
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(str(_l("Enter the quantity as a whole number.")), field="quantity",
                          code="invalid_quantity") from None
    if quantity <= 0:
        raise DomainError(str(_l("The quantity must be at least 1.")), field="quantity",
                          code="quantity_not_positive")
    if quantity > max_quantity:
        raise DomainError(str(_l("You can order at most %(max)s of each product.", max=max_quantity)),
                          field="quantity", code="quantity_over_limit")
    return quantity


def check_sellable(product: Product | None, *, qualified: bool, alcohol_online: bool) -> Product:
    """The product may be bought online today, or a refusal naming it."""
    if product is None or not product.is_published:
        name = product.name if product is not None else "—"
        raise DomainError(str(_l("%(name)s is no longer on sale.", name=name)), field="product",
                          code="not_published")
    if not qualified:
        raise DomainError(str(_l("%(name)s no longer has a valid OCOP certificate or qualifying basis and cannot "
                                 "be sold.", name=product.name)), field="product", code="no_qualifying_basis")
    if product.is_alcohol and not alcohol_online:
        raise DomainError(str(_l("%(name)s contains alcohol; alcohol is not sold online.", name=product.name)),
                          field="product", code="alcohol_not_sold_online")
    return product


def _sellable(product: Product, alcohol_online: bool) -> Product:
    """check_sellable for one product just picked (the add-to-cart form)."""
    found = cart_products([product.id], today()).get(product.id)
    return check_sellable(product, qualified=bool(found and found.qualified), alcohol_online=alcohol_online)


def _over_limit(max_quantity: int, already: int) -> DomainError:
    return DomainError(str(_l("You can order at most %(max)s of each product; your cart already has %(n)s.",
                              max=max_quantity, n=already)), field="quantity", code="quantity_over_limit")


# ------------------------------------------------------------------------------------- a guest's cart

def add_line(cart: Mapping[int, int], product: Product, quantity, *, max_quantity: int,
             alcohol_online: bool = True) -> dict[int, int]:
    """The guest's cart with `quantity` more of `product` (a new dict; the caller stores it)."""
    quantity = parse_quantity(quantity, max_quantity=max_quantity)
    _sellable(product, alcohol_online)
    already = int(cart.get(product.id, 0))
    if already + quantity > max_quantity:
        raise _over_limit(max_quantity, already)
    return {**cart, product.id: already + quantity}


def set_line(cart: Mapping[int, int], product_id: int, quantity, *, max_quantity: int) -> dict[int, int]:
    """The guest's cart with the line's quantity changed (the cart page)."""
    if product_id not in cart:
        raise DomainError(str(_l("This product is not in your cart.")), field="product", code="not_in_cart")
    return {**cart, product_id: parse_quantity(quantity, max_quantity=max_quantity)}


def remove_line(cart: Mapping[int, int], product_id: int) -> dict[int, int]:
    return {key: quantity for key, quantity in cart.items() if key != product_id}


# ---------------------------------------------------------------------------------- a customer's cart

def add_to_stored_cart(user, product: Product, quantity, max_quantity: int, *, alcohol_online: bool = True
                       ) -> CartLine:
    quantity = parse_quantity(quantity, max_quantity=max_quantity)
    _sellable(product, alcohol_online)
    line = stored_line(user, product.id)
    if line is None:
        line = CartLine(user_id=user.id, product_id=product.id, quantity=0, added_at=utcnow())
        db.session.add(line)
    if line.quantity + quantity > max_quantity:
        raise _over_limit(max_quantity, line.quantity)
    line.quantity += quantity
    db.session.flush()
    return line


def update_stored_cart(user, product_id: int, quantity, max_quantity: int) -> CartLine:
    line = stored_line(user, product_id)
    if line is None:
        raise DomainError(str(_l("This product is not in your cart.")), field="product", code="not_in_cart")
    line.quantity = parse_quantity(quantity, max_quantity=max_quantity)
    db.session.flush()
    return line


def remove_from_stored_cart(user, product_id: int) -> None:
    db.session.execute(sa.delete(CartLine).where(CartLine.user_id == user.id, CartLine.product_id == product_id))
    db.session.flush()


def clear_stored_cart(user) -> None:
    db.session.execute(sa.delete(CartLine).where(CartLine.user_id == user.id))
    db.session.flush()


def merge_session_cart(user, session_cart: Mapping, max_quantity: int) -> dict[int, int]:
    """At login: the guest's lines join the stored cart, quantities summed and capped at the limit. Lines that
    do not parse or name no product are dropped quietly (a stale cookie is not the customer's fault); products
    that can no longer be sold stay, and the cart page says why."""
    known = cart_products(clean_ids(session_cart), today())
    for product_id, quantity in clean_lines(session_cart).items():
        if product_id not in known:
            continue
        line = stored_line(user, product_id)
        if line is None:
            line = CartLine(user_id=user.id, product_id=product_id, quantity=0, added_at=utcnow())
            db.session.add(line)
        line.quantity = min(line.quantity + quantity, max_quantity)
    db.session.flush()
    return stored_cart(user)


def clean_lines(cart: Mapping) -> dict[int, int]:
    """{product_id: quantity} from data that went through a cookie: positive whole numbers only."""
    clean = {}
    for key, value in cart.items():
        try:
            product_id, quantity = int(key), int(value)
        except (TypeError, ValueError):
            continue
        if quantity > 0:
            clean[product_id] = quantity
    return clean


def clean_ids(cart: Mapping) -> list[int]:
    return list(clean_lines(cart))


# ----------------------------------------------------------------------------------------- the cart view

@dataclass(frozen=True)
class PricedLine:
    product: Product
    quantity: int
    unit_price_vnd: int
    problem: str | None  # why it cannot be ordered now (unpublished, no basis, alcohol switched off)

    @property
    def total_vnd(self) -> int:
        return self.unit_price_vnd * self.quantity


@dataclass(frozen=True)
class CartView:
    lines: list[PricedLine] = field(default_factory=list)

    @property
    def subtotal_vnd(self) -> int:
        return sum(line.total_vnd for line in self.lines if line.problem is None)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def has_alcohol(self) -> bool:
        return any(line.product.is_alcohol for line in self.lines)

    @property
    def orderable(self) -> bool:
        return bool(self.lines) and all(line.problem is None for line in self.lines)

    def quantities(self) -> dict[int, int]:
        return {line.product.id: line.quantity for line in self.lines}


def cart_view(lines: Mapping, *, alcohol_online: bool = True) -> CartView:
    """The cart's lines priced from the catalogue (never from the request), each with the problem that would stop
    it at checkout; ids of products that no longer exist are left out."""
    clean = clean_lines(lines)
    products = cart_products(clean, today())
    priced = []
    for product_id, quantity in clean.items():
        found = products.get(product_id)
        if found is None:
            continue
        try:
            check_sellable(found.product, qualified=found.qualified, alcohol_online=alcohol_online)
            problem = None
        except DomainError as error:
            problem = error.message
        priced.append(PricedLine(found.product, quantity, found.product.price_vnd, problem))
    return CartView(priced)


# ------------------------------------------------------------------------------------------ shipping

def shipping_zone(province_code: int | None, zones: Mapping[str, list]) -> str:
    """The zone whose list holds the province; "far" for every other province."""
    for zone, provinces in zones.items():
        if province_code in provinces:
            return zone
    return "far"


def shipping_fee(province_code: int | None, subtotal_vnd: int, zones: Mapping[str, list], fees: Mapping[str, int],
                 free_from: int | None) -> int:
    """The delivery fee from the configured table (SHIPPING_ZONES, SHIPPING_FEES_VND); free from `free_from`."""
    if free_from is not None and subtotal_vnd >= free_from:
        return 0
    return int(fees[shipping_zone(province_code, zones)])


def shipping_fee_from_config(province_code: int | None, subtotal_vnd: int, config: Mapping) -> int:
    return shipping_fee(province_code, subtotal_vnd, config["SHIPPING_ZONES"], config["SHIPPING_FEES_VND"],
                        config["FREE_SHIPPING_FROM_VND"])


# ------------------------------------------------------------------------------------------- contact

def normalise_phone(raw: str | None) -> str:
    """A Vietnamese phone number ("0912 345 678", "+84 912345678") in E.164 form, or a refusal."""
    refusal = DomainError(str(_l("Enter a valid Vietnamese phone number, e.g. 0912 345 678.")), field="phone",
                          code="invalid_phone")
    try:
        number = phonenumbers.parse((raw or "").strip(), "VN")
    except phonenumbers.NumberParseException:
        raise refusal from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "VN":
        raise refusal
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def checked_contact(contact: Contact) -> Contact:
    name = nfc(contact.name or "").strip()
    if not name:
        raise DomainError(str(_l("Enter your name.")), field="name", code="name_required")
    email = (contact.email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise DomainError(str(_l("Enter a valid email address, e.g. ten@example.vn.")), field="email",
                          code="invalid_email")
    return Contact(name=name, phone=normalise_phone(contact.phone), email=email)


def checked_address(address: Address | None) -> Address:
    if address is None or not address.province_code or not admin_units.province_name(address.province_code):
        raise DomainError(str(_l("Choose the province.")), field="province_code", code="province_required")
    if not address.ward_code or not admin_units.ward_in_province(address.ward_code, address.province_code):
        raise DomainError(str(_l("Choose the commune or ward in this province.")), field="ward_code",
                          code="ward_required")
    street = nfc(address.street or "").strip()
    if not street:
        raise DomainError(str(_l("Enter the house number and street.")), field="street", code="street_required")
    return Address(province_code=address.province_code, ward_code=address.ward_code, street=street)


# --------------------------------------------------------------------------------------------- placing

def _enum(enum, value, field_name: str):
    try:
        return enum(value)
    except ValueError:
        raise DomainError(str(_l("Choose one of the options.")), field=field_name, code="invalid_choice") from None


def checked_lines(lines: Mapping, config: Mapping, *, age_confirmed: bool) -> list[tuple[Product, int]]:
    """The cart re-checked at checkout: quantities, products still published and qualified (a certificate
    withdrawn since the cart was filled is refused with the product named), alcohol rules."""
    max_quantity = config["MAX_QUANTITY_PER_PRODUCT"]
    wanted = {int(product_id): parse_quantity(quantity, max_quantity=max_quantity)
              for product_id, quantity in lines.items()}
    if not wanted:
        raise DomainError(str(_l("Your cart is empty.")), field="lines", code="empty_order")
    products = cart_products(wanted, today())
    checked = []
    for product_id, quantity in wanted.items():
        found = products.get(product_id)
        product = check_sellable(found and found.product, qualified=bool(found and found.qualified),
                                 alcohol_online=config["ALCOHOL_ONLINE_SALES"])
        if product.is_alcohol and not age_confirmed:
            raise DomainError(str(_l("Confirm that you are 18 or over: %(name)s contains alcohol.",
                                     name=product.name)), field="age_confirmed", code="age_not_confirmed")
        checked.append((product, quantity))
    return checked


def _pickup_point(code: str | None, lines: list[tuple[Product, int]]):
    point = get_by_code(code) if code else None
    if point is None:
        raise DomainError(str(_l("Choose the sales point where you will collect the order.")),
                          field="pickup_point", code="pickup_point_required")
    if not point.is_open:
        raise DomainError(str(_l("%(name)s is not open; choose another sales point.", name=point.name)),
                          field="pickup_point", code="point_not_open")
    # Whether the point has every line is decided by the reservation itself (place_order), under its locks.
    return point


def _point_lacks_lines(point) -> DomainError:
    return DomainError(str(_l("%(name)s no longer has every product of your cart in the quantity you want; "
                              "choose another sales point.", name=point.name)),
                       field="pickup_point", code="insufficient_stock")


def _delivery_point(config: Mapping):
    point = delivery_point(config.get("DELIVERY_POINT_CODE"))
    if point is None:
        raise DomainError(str(_l("Home delivery is not available at the moment; choose pickup at a sales point.")),
                          field="fulfilment", code="delivery_unavailable")
    return point


def place_order(lines: Mapping, *, fulfilment: str, payment_method: str, contact: Contact,
                address: Address | None = None, pickup_point_code: str | None = None, customer=None,
                locale: str = "vi", age_confirmed: bool = False, config: Mapping) -> Order:
    """The order for the cart `lines` ({product_id: quantity}), every rule checked again; stock is held in this
    transaction (orders.create_order refuses with code "insufficient_stock"). On any DomainError the caller rolls
    back: nothing is created, nothing held. A card order's payment starts on its pay page, after this transaction
    has committed: Stripe is never called while the stock rows are locked."""
    fulfilment = _enum(Fulfilment, fulfilment, "fulfilment")
    payment_method = _enum(OrderPaymentMethod, payment_method, "payment_method")
    products = checked_lines(lines, config, age_confirmed=age_confirmed)
    contact = checked_contact(contact)
    # Holds whose time is up give their stock back first, whether or not the expiry job has run yet.
    expire_overdue()
    if fulfilment == Fulfilment.PICKUP:
        point, address, fee = _pickup_point(pickup_point_code, products), None, 0
    else:
        address = checked_address(address)
        point = _delivery_point(config)
        subtotal = sum(product.price_vnd * quantity for product, quantity in products)
        fee = shipping_fee_from_config(address.province_code, subtotal, config)
    holds = Holds(unpaid_card_minutes=config["UNPAID_CARD_HOLD_MINUTES"], pickup_hours=config["PICKUP_HOLD_HOURS"])
    check_hold_caps(contact, products, customer=customer, config=config)  # before any stock row is locked
    try:
        order = create_order(point, products, fulfilment=fulfilment, payment_method=payment_method,
                             contact=contact, address=address, shipping_fee_vnd=fee, holds=holds, customer=customer,
                             locale=locale, age_confirmed=age_confirmed)
    except DomainError as error:
        if fulfilment == Fulfilment.PICKUP and error.code == "insufficient_stock":
            raise _point_lacks_lines(point) from error  # the buyer chose the point: say so, and offer another
        raise
    if customer is not None:
        clear_stored_cart(customer)
    return order
