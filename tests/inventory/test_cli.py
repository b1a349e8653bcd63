import sqlalchemy as sa

from shop.extensions import db
from shop.inventory.services import adjust_stock
from tests.inventory.conftest import receive


def test_verify_passes_on_consistent_books_and_reports_a_tampered_level(app, runner, manager, point, product):
    receipt = receive(point, product, manager, quantity=12)
    adjust_stock((point, product, receipt.lot), delta=-2, reason="damaged", actor=manager)
    db.session.commit()
    result = runner.invoke(args=["inventory", "verify"])
    assert result.exit_code == 0, result.output
    assert "no difference" in result.output
    # Someone edits a level behind the ledger's back: the check must notice.
    db.session.execute(sa.text("UPDATE stock_level SET on_hand = on_hand + 5"))
    db.session.commit()
    result = runner.invoke(args=["inventory", "verify"])
    assert result.exit_code == 1
    assert "DN-XL-01" in result.output and "on hand 15, ledger says 10" in result.output
