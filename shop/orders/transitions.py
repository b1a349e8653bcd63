"""What staff may do to an order, read from the pipeline (orders.models.TRANSITIONS): every action is a move to
one status, so an action is offered exactly when the pipeline allows that move from the order's status. The services
check again when the action is posted; the pages only show what this says."""
from dataclasses import dataclass

from shop.orders.models import TRANSITIONS, Fulfilment, Order, OrderStatus


@dataclass(frozen=True)
class StaffAction:
    to_status: OrderStatus
    # For one way of receiving the order only (None: both): a pickup order is made ready and handed over, a delivery
    # order is shipped and delivered.
    fulfilment: Fulfilment | None = None
    # A refund needs money not yet given back (a partial refund leaves the status as it is).
    needs_refundable_money: bool = False


STAFF_ACTIONS: dict[str, StaffAction] = {
    "ready": StaffAction(OrderStatus.READY_FOR_PICKUP, Fulfilment.PICKUP),
    "hand_over": StaffAction(OrderStatus.COMPLETED, Fulfilment.PICKUP),
    "ship": StaffAction(OrderStatus.SHIPPED, Fulfilment.DELIVERY),
    "delivered": StaffAction(OrderStatus.COMPLETED, Fulfilment.DELIVERY),
    "cancel": StaffAction(OrderStatus.CANCELLED),
    "refund": StaffAction(OrderStatus.REFUNDED, needs_refundable_money=True),
}


def allows(order: Order, action: StaffAction) -> bool:
    return (action.to_status in TRANSITIONS[order.status]
            and action.fulfilment in (None, order.fulfilment)
            and (not action.needs_refundable_money or order.refundable_vnd > 0))


def staff_actions(order: Order) -> frozenset[str]:
    """The names of the actions staff may take on the order now."""
    return frozenset(name for name, action in STAFF_ACTIONS.items() if allows(order, action))
