"""Who may work on which lot: a producer account on its own producer's lots, an admin on every lot. Anything
else is a 404, so other producers' lot ids are not confirmed."""
from flask import abort
from flask_login import current_user

from shop.accounts.models import Role
from shop.accounts.permissions import area_guard
from shop.extensions import db
from shop.producers.models import Producer
from shop.producers.queries import producer_of
from shop.traceability.models import Lot

# before_request of every /manage/producer blueprint.
producer_portal_guard = area_guard(Role.PRODUCER)


def current_producer() -> Producer | None:
    """The producer the current account works for (None for an admin, who sees every producer)."""
    return None if current_user.role == Role.ADMIN else producer_of(current_user)


def own_lot(lot_id: int) -> Lot:
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        abort(404)
    if current_user.role == Role.ADMIN:
        return lot
    producer = producer_of(current_user)
    if producer is None or producer.id != lot.product.producer_id:
        abort(404)
    return lot
