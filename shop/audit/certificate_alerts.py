"""Certificate expiry alerts at 90, 60 and 30 days before a certificate's validity ends.

Each certificate gets at most one alert per threshold (a CertificateNotice row, unique per certificate and
threshold): a nightly `flask certificates alerts` sends what is due and nothing twice. When a run is missed, only
the most urgent threshold reached is sent. Recipients: the producer's member accounts, the managers of the points
that stock the product (stock on hand or the product in the point's assortment), and every trade officer. Each
person gets one message per run listing their certificates, in their own language (their account's locale,
else the site's default). Messages go out after the commit (MAIL_FOLDER: written as .eml files)."""
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message

from shop.accounts.models import Role, User
from shop.audit.models import CertificateNotice
from shop.catalog.models import Product
from shop.certification.models import Certificate
from shop.core.clock import today
from shop.core.database import after_commit
from shop.core.urls import public_url_for
from shop.extensions import db
from shop.inventory.models import StockLevel
from shop.orders.emails import deliver
from shop.producers.models import ProducerMember
from shop.sales_points.models import PointManager, PointProduct, SalesPoint

THRESHOLDS = (90, 60, 30)
PRODUCER, POINT, OFFICER = "producer", "point", "officer"


@dataclass
class Due:
    certificate: Certificate
    threshold: int
    days_left: int
    points: list[SalesPoint] = field(default_factory=list)


@dataclass
class AlertSummary:
    day: date
    certificates: int = 0            # certificates alerted in this run (one notice each)
    messages: int = 0                # emails handed over
    by_kind: dict[str, int] = field(default_factory=lambda: {PRODUCER: 0, POINT: 0, OFFICER: 0})
    recipients: list[str] = field(default_factory=list)


def threshold_for(days_left: int) -> int | None:
    """The most urgent threshold reached: 45 days left -> 60; more than 90 or already expired -> None."""
    if days_left < 0:
        return None
    reached = [threshold for threshold in THRESHOLDS if days_left <= threshold]
    return min(reached) if reached else None


def due_alerts(day: date) -> list[Due]:
    """Certificates valid on `day` that reached a threshold with no notice sent for it yet."""
    rows = db.session.scalars(
        sa.select(Certificate).where(Certificate.valid_on_clause(day),
                                     Certificate.valid_until <= day + timedelta(days=max(THRESHOLDS)))
        .order_by(Certificate.valid_until, Certificate.id)).all()
    if not rows:
        return []
    sent = {tuple(notice) for notice in db.session.execute(
        sa.select(CertificateNotice.certificate_id, CertificateNotice.days_before)
        .where(CertificateNotice.certificate_id.in_([row.id for row in rows])))}
    due = []
    for certificate in rows:
        days_left = (certificate.valid_until - day).days
        threshold = threshold_for(days_left)
        if threshold is not None and (certificate.id, threshold) not in sent:
            due.append(Due(certificate, threshold, days_left))
    return due


def notices_for(certificate_ids) -> dict[int, list[CertificateNotice]]:
    """The alerts already sent, by certificate id, the earliest first (for the registry pages)."""
    ids = list(certificate_ids)
    found: dict[int, list[CertificateNotice]] = {}
    if not ids:
        return found
    for notice in db.session.scalars(sa.select(CertificateNotice).where(CertificateNotice.certificate_id.in_(ids))
                                     .order_by(CertificateNotice.sent_at, CertificateNotice.id)):
        found.setdefault(notice.certificate_id, []).append(notice)
    return found


def _recipients(due: list[Due]) -> dict[int, tuple[User, str, list[Due]]]:
    """user id -> (user, kind of recipient, the alerts they get). A person who is several kinds at once gets one
    message, under the first kind that applies (producer, then point, then officer)."""
    product_ids = sorted({item.certificate.product_id for item in due})
    producer_of = {product_id: producer_id for product_id, producer_id in db.session.execute(
        sa.select(Product.id, Product.producer_id).where(Product.id.in_(product_ids)))}
    members: dict[int, list[User]] = {}
    for member, user in db.session.execute(
            sa.select(ProducerMember, User).join(User, User.id == ProducerMember.user_id)
            .where(ProducerMember.producer_id.in_(set(producer_of.values())), User.is_active.is_(True))):
        members.setdefault(member.producer_id, []).append(user)
    stocked = sa.union(
        sa.select(StockLevel.point_id.label("point_id"), StockLevel.product_id.label("product_id"))
        .where(StockLevel.product_id.in_(product_ids), StockLevel.on_hand > 0),
        sa.select(PointProduct.point_id.label("point_id"), PointProduct.product_id.label("product_id"))
        .where(PointProduct.product_id.in_(product_ids))).subquery()
    points_of: dict[int, set[int]] = {}
    for point_id, product_id in db.session.execute(sa.select(stocked.c.point_id, stocked.c.product_id)):
        points_of.setdefault(product_id, set()).add(point_id)
    point_ids = sorted({point for points in points_of.values() for point in points})
    points = {point.id: point
              for point in db.session.scalars(sa.select(SalesPoint).where(SalesPoint.id.in_(point_ids)))}
    managers: dict[int, list[User]] = {}
    for manager, user in db.session.execute(
            sa.select(PointManager, User).join(User, User.id == PointManager.user_id)
            .where(PointManager.point_id.in_(point_ids), User.is_active.is_(True))):
        managers.setdefault(manager.point_id, []).append(user)
    officers = list(db.session.scalars(sa.select(User).where(User.role == Role.TRADE_OFFICER,
                                                             User.is_active.is_(True)).order_by(User.id)))

    chosen: dict[int, tuple[User, str, list[Due]]] = {}

    def add(user: User, kind: str, item: Due) -> None:
        entry = chosen.setdefault(user.id, (user, kind, []))
        if item not in entry[2]:
            entry[2].append(item)

    for item in due:
        product_id = item.certificate.product_id
        item.points = sorted((points[p] for p in points_of.get(product_id, ()) if p in points),
                             key=lambda point: point.code)
        for user in members.get(producer_of.get(product_id), []):
            add(user, PRODUCER, item)
        for point in item.points:
            for user in managers.get(point.id, []):
                add(user, POINT, item)
        for user in officers:
            add(user, OFFICER, item)
    return chosen


def compose(user: User, kind: str, items: list[Due], day: date) -> Message:
    locale = user.locale if user.locale in current_app.config["LANGUAGES"] else \
        current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        soonest = min(item.days_left for item in items)
        if len(items) == 1:
            subject = _("OCOP certificate of %(product)s expires in %(days)s days",
                        product=items[0].certificate.product.name, days=soonest)
        else:
            subject = _("%(count)s OCOP certificates expire within %(days)s days", count=len(items),
                        days=max(item.threshold for item in items))
        context = {"user": user, "kind": kind, "items": items, "day": day,
                   "registry_link": _registry_link() if kind == OFFICER else None}
        message = Message(subject=subject, recipients=[user.email],
                          body=render_template("certification/email/expiry.txt", **context),
                          html=render_template("certification/email/expiry.html", **context),
                          extra_headers={"Content-Language": locale})
    message.kind = "certificate-expiry"  # for the file name in MAIL_FOLDER
    return message


def _registry_link() -> str | None:
    """The expiring list on the site's public address (PUBLIC_URL), never on a request's Host header."""
    if not current_app.config.get("PUBLIC_URL"):
        return None
    try:
        return public_url_for("certificates.expiring")
    except Exception:  # noqa: BLE001 - the registry pages are not registered (an app without them)
        return None


def send_expiry_alerts(day: date | None = None) -> AlertSummary:
    """Record one notice per due certificate and threshold and hand the messages over after the commit. It
    flushes; the caller commits (a rollback sends nothing and records nothing)."""
    day = day or today()
    summary = AlertSummary(day=day)
    due = due_alerts(day)
    if not due:
        return summary
    chosen = _recipients(due)
    messages = []
    for user, kind, items in chosen.values():
        messages.append(compose(user, kind, items, day))
        summary.by_kind[kind] += 1
        summary.recipients.append(user.email)
    for item in due:
        emails = sorted(user.email for user, _kind, items in chosen.values() if item in items)
        db.session.add(CertificateNotice(certificate_id=item.certificate.id, days_before=item.threshold,
                                         recipients=emails))
    db.session.flush()
    summary.certificates, summary.messages = len(due), len(messages)
    if messages:
        after_commit(lambda: deliver(messages))
    return summary
