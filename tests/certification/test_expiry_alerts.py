"""Certificate expiry alerts at 90, 60 and 30 days: each threshold sent once per certificate, to the producer's
accounts, the managers of the points that stock the product and every trade officer, each in their language."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext

from shop.accounts.models import Role
from shop.audit.certificate_alerts import send_expiry_alerts, threshold_for
from shop.audit.models import CertificateNotice
from shop.certification.models import Certificate
from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.extensions import db
from shop.orders import emails
from shop.producers.services import attach_member
from tests.factories import (
    make_certificate,
    make_point,
    make_point_manager,
    make_producer,
    make_product,
    make_stock,
    make_user,
)


@pytest.fixture
def world(app_ctx):
    """A 3★ certificate ending in exactly 90 days; a point that stocks the product and one that does not."""
    current_app.config["MAIL_FOLDER"] = None  # TESTING: Flask-Mail records instead of connecting
    officer = make_user(Role.TRADE_OFFICER, email="officer@example.vn")
    officer.locale = "en"
    make_user(Role.TRADE_OFFICER, email="officer-vi@example.vn").locale = "vi"
    make_user(Role.TRADE_OFFICER, email="gone@example.vn").is_active = False
    make_user(Role.CUSTOMER, email="customer@example.vn")
    producer = make_producer("HTX Ca cao Định Quán")
    member = make_user(Role.PRODUCER, email="member@example.vn")
    member.locale = "en"
    attach_member(producer, member)
    product = make_product(producer, "Ca cao nguyên chất", stars=None)
    certificate = make_certificate(product, stars=3, decision_date=today() - timedelta(days=300),
                                   valid_until=today() + timedelta(days=90))
    stocking, other = make_point("DN-XL-01"), make_point("DN-TT-01")
    make_stock(stocking, product, officer, quantity=5)
    make_point_manager(stocking, email="stocking@example.vn")
    make_point_manager(other, email="other@example.vn")
    db.session.commit()
    return {"certificate": certificate, "product": product}


def run(day=None):
    with emails.mail.record_messages() as outbox:
        summary = send_expiry_alerts(day)
        db.session.commit()
    return summary, outbox


def notices() -> list[tuple[int, int]]:
    return [tuple(notice) for notice in db.session.execute(
        sa.select(CertificateNotice.certificate_id, CertificateNotice.days_before).order_by(CertificateNotice.id))]


def test_thresholds():
    assert [threshold_for(d) for d in (120, 91, 90, 61, 60, 45, 31, 30, 1, 0, -1)] == [
        None, None, 90, 90, 60, 60, 60, 30, 30, 30, None]


def test_the_90_day_alert_goes_to_the_right_people_once(world):
    summary, outbox = run()
    assert sorted(message.recipients[0] for message in outbox) == [
        "member@example.vn", "officer-vi@example.vn", "officer@example.vn", "stocking@example.vn"]
    assert summary.certificates == 1 and summary.messages == 4
    assert summary.by_kind == {"producer": 1, "point": 1, "officer": 2}
    assert notices() == [(world["certificate"].id, 90)]
    stored = db.session.scalar(sa.select(CertificateNotice))
    assert stored.recipients == ["member@example.vn", "officer-vi@example.vn", "officer@example.vn",
                                 "stocking@example.vn"]
    by_recipient = {message.recipients[0]: message for message in outbox}
    point_mail = by_recipient["stocking@example.vn"].body
    assert "Ca cao nguyên chất" in point_mail and "DN-XL-01" in point_mail and "DN-TT-01" not in point_mail
    # Sent once: the same night again, or the next, sends nothing.
    again, outbox = run()
    assert again.certificates == 0 and outbox == []
    assert run(today() + timedelta(days=1))[1] == []


def test_each_recipient_reads_their_language(world):
    _summary, outbox = run()
    by_recipient = {message.recipients[0]: message for message in outbox}
    english, vietnamese = by_recipient["officer@example.vn"], by_recipient["officer-vi@example.vn"]
    assert english.subject == "OCOP certificate of Ca cao nguyên chất expires in 90 days"
    assert english.extra_headers["Content-Language"] == "en" and "90 days left" in english.body
    with force_locale("vi"):
        greeting = gettext("Hello %(name)s,", name="|").split("|")[0]
    assert greeting and not greeting.startswith("Hello")  # translated: the check below means something
    assert vietnamese.extra_headers["Content-Language"] == "vi" and vietnamese.body.startswith(greeting)
    assert english.body.startswith("Hello ")
    assert "Ca cao nguyên chất" in vietnamese.subject and "Ca cao nguyên chất" in vietnamese.html
    assert by_recipient["member@example.vn"].extra_headers["Content-Language"] == "en"
    assert "re-evaluation" in by_recipient["member@example.vn"].body


def test_the_60_and_30_day_alerts_follow_each_once(world):
    run()
    assert run(today() + timedelta(days=30))[0].certificates == 1    # 60 days left
    assert run(today() + timedelta(days=45))[0].certificates == 0    # 45 left: 60 already sent
    assert run(today() + timedelta(days=60))[0].certificates == 1    # 30 days left
    assert run(today() + timedelta(days=75))[0].certificates == 0
    assert run(today() + timedelta(days=91))[0].certificates == 0    # expired: no alert
    assert [days for _id, days in notices()] == [90, 60, 30]


def test_a_missed_night_sends_only_the_most_urgent_threshold(world):
    summary, outbox = run(today() + timedelta(days=50))  # 40 days left, nothing sent before
    assert summary.certificates == 1 and len(outbox) == 4
    assert [days for _id, days in notices()] == [60]
    assert "40 days" in outbox[0].subject


def test_withdrawn_or_far_certificates_get_no_alert(world):
    withdraw_certificate(world["certificate"], decision_no="1/QĐ", reason="Vi phạm.")
    make_certificate(make_product(stars=None), stars=4, decision_date=today() - timedelta(days=10))  # 3 years left
    db.session.commit()
    summary, outbox = run()
    assert summary.certificates == 0 and outbox == [] and notices() == []


def test_a_rollback_sends_nothing_and_records_nothing(world):
    with emails.mail.record_messages() as outbox:
        send_expiry_alerts()
        db.session.rollback()
        db.session.commit()
    assert outbox == [] and notices() == []


def test_the_nightly_command_says_how_many_alerts_went_to_whom(app, world):
    runner = app.test_cli_runner()
    with emails.mail.record_messages() as outbox:
        result = runner.invoke(args=["certificates", "alerts"])
    assert result.exit_code == 0, result.output
    assert ("1 certificate(s) reached an alert threshold; 4 email(s) sent: 1 to producers, 1 to point managers, "
            "2 to trade officers.") in result.output
    assert "stocking@example.vn" in result.output and len(outbox) == 4
    second = runner.invoke(args=["certificates", "alerts"])
    assert second.exit_code == 0 and "nothing sent" in second.output


def test_the_demo_gets_one_expiring_certificate_only_when_it_has_none(app_ctx):
    from collections import Counter
    from types import SimpleNamespace

    from shop.seeding.demo_certificates import seed_demo_certificates

    draft = make_product(name="Sô cô la trắng nhân hạt điều Trông Đức", stars=None, publish=False)
    assert draft.slug == "so-co-la-trang-nhan-hat-dieu-trong-duc"
    make_certificate(make_product(stars=None), stars=4, decision_date=today() - timedelta(days=10))
    report = SimpleNamespace(created=Counter())
    seed_demo_certificates(report)
    seed_demo_certificates(report)  # idempotent
    [certificate] = db.session.scalars(sa.select(Certificate).where(Certificate.product_id == draft.id)).all()
    assert certificate.valid_until == today() + timedelta(days=45) and certificate.is_valid_on(today())
    assert report.created["expiring certificates"] == 1


def test_the_demo_is_left_alone_when_a_certificate_already_expires_soon(app_ctx):
    from collections import Counter
    from types import SimpleNamespace

    from shop.seeding.demo_certificates import seed_demo_certificates

    draft = make_product(name="Sô cô la trắng nhân hạt điều Trông Đức", stars=None, publish=False)
    make_certificate(make_product(stars=None), stars=3, decision_date=today() - timedelta(days=300),
                     valid_until=today() + timedelta(days=20))
    seed_demo_certificates(SimpleNamespace(created=Counter()))
    assert db.session.scalar(sa.select(Certificate).where(Certificate.product_id == draft.id)) is None
