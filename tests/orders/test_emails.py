"""Order emails: one message per event the customer should hear about, in the order's language, with the secret
link on the configured public address; written only once the transaction commits, never for a rollback, and a
failure to send never breaks the order."""
import email
import email.policy
import logging
from pathlib import Path

import pytest
from flask import current_app
from flask_babel import force_locale, gettext

from shop.accounts.models import Role
from shop.core.money import format_vnd
from shop.extensions import db
from shop.orders import emails, services
from shop.orders.models import Order
from tests.factories import make_point, make_product, make_stock, make_user
from tests.orders.conftest import ADDRESS, CONTACT

PUBLIC_URL = "https://ocop.example.vn"


@pytest.fixture
def mail_folder(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def app(make_app, mail_folder):
    return make_app(MAIL_FOLDER=str(mail_folder), PUBLIC_URL=PUBLIC_URL)


def written(folder: Path) -> list[email.message.EmailMessage]:
    """The .eml files of MAIL_FOLDER, oldest first."""
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))] if folder.exists() else []


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def place(point, product, quantity=1, **kw) -> Order:
    fields = {"fulfilment": "pickup", "payment_method": "pay_at_pickup", "contact": CONTACT, **kw}
    return services.create_order(point, [(product, quantity)], **fields)


def test_placing_an_order_writes_one_message_with_the_number_and_the_secret_link(point, product, mail_folder):
    order = place(point, product, 2)  # pay at pickup: placed and confirmed at once, one email
    db.session.commit()
    [message] = written(mail_folder)
    assert message["To"] == CONTACT.email and order.number in message["Subject"]
    link = f"{PUBLIC_URL}/orders/{order.number}?key={order.access_key}"
    assert link in text_of(message) and f'href="{link}"' in message.get_body(("html",)).get_content()
    assert order.pickup_code in text_of(message)


def test_the_message_speaks_the_language_the_customer_ordered_in(point, product, mail_folder):
    place(point, product, locale="vi")
    db.session.commit()
    place(point, product, locale="en", fulfilment="delivery", payment_method="cash_on_delivery", address=ADDRESS)
    db.session.commit()
    vietnamese, english = written(mail_folder)
    with force_locale("vi"):
        total_vi = gettext("Total")
    assert total_vi != "Total"  # the catalogue translates it: the check below means something
    assert vietnamese["Content-Language"] == "vi" and f"{total_vi}:" in text_of(vietnamese)
    assert english["Content-Language"] == "en" and "Total:" in text_of(english)
    assert total_vi not in text_of(english)


def test_a_rolled_back_transaction_sends_nothing(point, product, mail_folder):
    place(point, product)
    db.session.rollback()
    db.session.commit()  # a later commit does not bring the dropped message back
    assert written(mail_folder) == []


def test_a_rolled_back_savepoint_takes_its_message_with_it_and_a_released_one_waits(point, product, mail_folder):
    from shop.core.database import open_transaction

    open_transaction()
    savepoint = db.session.begin_nested()
    place(point, product)
    savepoint.rollback()
    with db.session.begin_nested():
        kept = place(point, product)
    assert written(mail_folder) == []  # a released savepoint is not a commit yet
    db.session.commit()
    [message] = written(mail_folder)
    assert kept.number in message["Subject"]


def test_each_step_the_customer_cares_about_sends_its_message(point, product, staff, mail_folder):
    order = place(point, product, payment_method="card")
    db.session.commit()
    services.mark_paid(order, order.total_vnd, reference="pi_1")
    db.session.commit()
    services.mark_ready(order, actor=staff)
    db.session.commit()
    services.cancel(order, reason="Hết hạn giữ hàng", actor=staff)
    db.session.commit()
    subjects = [message["Subject"] for message in written(mail_folder)]
    assert len(subjects) == 4 and all(order.number in subject for subject in subjects)
    assert "Hết hạn giữ hàng" in text_of(written(mail_folder)[-1])


def test_a_partial_refund_tells_how_much_came_back(point, product, staff, mail_folder):
    order = place(point, product, 2, payment_method="card")
    services.mark_paid(order, order.total_vnd, reference="pi_1")
    services.mark_refunded(order, actor=staff, amount_vnd=50_000, reason="Hộp bị móp")
    db.session.commit()
    *earlier, refund = written(mail_folder)  # placed, paid, then the refund
    assert len(earlier) == 2 and order.number in refund["Subject"]
    assert format_vnd(50_000) in text_of(refund) and "Hộp bị móp" in text_of(refund)


def test_without_a_folder_messages_go_through_flask_mail(point, product):
    current_app.config["MAIL_FOLDER"] = None  # TESTING: Flask-Mail records instead of connecting to SMTP
    with emails.mail.record_messages() as outbox:
        order = place(point, product)
        db.session.commit()
    assert [message.recipients for message in outbox] == [[CONTACT.email]]
    assert order.number in outbox[0].subject


def test_a_failure_to_send_is_logged_and_the_order_stands(point, product, mail_folder, caplog):
    mail_folder.parent.mkdir(parents=True, exist_ok=True)
    mail_folder.write_text("a file where the folder should be")
    with caplog.at_level(logging.ERROR, logger="shop.orders.emails"):
        order = place(point, product)
        db.session.commit()
    assert db.session.get(Order, order.id) is not None
    assert any("Could not send" in record.getMessage() for record in caplog.records)


def test_in_development_messages_are_written_to_the_instance_mail_folder(make_app):
    app = make_app(SHOP_ENV="development", MAIL_FOLDER=None)
    assert app.config["MAIL_FOLDER"] == str(Path(app.instance_path) / "mail")


def test_by_default_the_email_is_sent_after_the_commit_on_a_background_thread(make_app, tmp_path):
    folder = tmp_path / "mail-background"
    app = make_app(MAIL_FOLDER=str(folder), MAIL_IN_BACKGROUND=True)
    with app.app_context():
        point, staff = make_point("DN-TT-01"), make_user(Role.POINT_MANAGER)
        product = make_product(price_vnd=50_000)
        make_stock(point, product, staff, quantity=3)
        order = services.create_order(point, [(product, 1)], fulfilment="pickup", payment_method="pay_at_pickup",
                                      contact=CONTACT)
        db.session.commit()
        emails.wait_for_deliveries()
        written = list(folder.glob("*.eml"))
        assert len(written) == 1 and order.number in written[0].name
