"""`flask inventory alerts`: every open point's alerts (low stock, expiring lots, lapsing certificates), for a daily
job. (`flask inventory verify` is the books check: shop.books.cli.)"""
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from shop.core.clock import format_date, today
from shop.inventory.alerts import AlertSettings, PointAlerts, all_alerts
from shop.sales_points.models import SalesPoint
from shop.sales_points.queries import get_by_code, list_open_points

inventory_cli = AppGroup("inventory", help="Stock and ledger checks, stock alerts.")


# `flask inventory verify` is added to this group by shop.books.cli (the books check more than the ledger).


# --- alerts -------------------------------------------------------------------------------------------------

POINTS_PER_BATCH = 100   # points whose alerts are read together (a few queries per batch)
PROGRESS_FROM = 5        # more points than this: show a progress bar on stderr


def _collect_alerts(points: list[SalesPoint], day, settings: AlertSettings) -> list[tuple[SalesPoint, PointAlerts]]:
    batches = [points[start:start + POINTS_PER_BATCH] for start in range(0, len(points), POINTS_PER_BATCH)]
    if len(points) <= PROGRESS_FROM:
        return [pair for batch in batches for pair in all_alerts(day, settings, points=batch)]
    collected = []
    with click.progressbar(length=len(points), label="Checking points", file=sys.stderr) as bar:
        for batch in batches:
            collected.extend(all_alerts(day, settings, points=batch))
            bar.update(len(batch))
    return collected


def _alert_lines(alerts: PointAlerts) -> list[str]:
    lines = [f"  low stock     {item.product_name}: {item.available} available (alert below {item.threshold}"
             f"{'' if item.own_threshold else ', default'})" for item in alerts.low_stock]
    for lot in alerts.expiring_lots:
        when = (f"EXPIRED on {format_date(lot.expiry_date)}, take it off the shelf" if lot.expired
                else f"expires {format_date(lot.expiry_date)} (in {lot.days_left} days)")
        kind = "expired lot " if lot.expired else "expiring lot"
        lines.append(f"  {kind}  {lot.product_name}, lot {lot.lot_code}: {lot.on_hand} on the shelf, {when}")
    lines += [f"  certificate   {cert.product_name}: {cert.stars}-star certificate {cert.decision_no} valid until "
              f"{format_date(cert.valid_until)} ({cert.days_left} days left)" for cert in alerts.expiring_certificates]
    lines += [f"  cannot sell   {item.product_name}: {item.on_hand} on the shelf without a qualifying basis"
              for item in alerts.unsellable]
    return lines


def _as_json(day, settings: AlertSettings, collected) -> str:
    def plain(item) -> dict:
        values = dict(vars(item))
        return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in values.items()
                if key != "point_id"}

    points = [{"code": point.code, "name": point.name, "status": point.status.value, "alert_count": alerts.count,
               "low_stock": [plain(item) for item in alerts.low_stock],
               "expiring_lots": [{**plain(lot), "expired": lot.expired} for lot in alerts.expiring_lots],
               "expiring_certificates": [plain(cert) for cert in alerts.expiring_certificates],
               "unsellable": [plain(item) for item in alerts.unsellable]}
              for point, alerts in collected]
    return json.dumps({"day": day.isoformat(), "expiry_days": settings.expiry_days,
                       "certificate_days": settings.certificate_days, "points": points}, ensure_ascii=False, indent=2)


@inventory_cli.command("alerts")
@click.option("--point", "code", help="Only this point (its code, e.g. DN-XL-01); default: every open point.")
@click.option("--days", type=click.IntRange(min=0), help="Flag lots expiring within this many days "
              "(default: EXPIRY_ALERT_DAYS).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def alerts(code: str | None, days: int | None, output: str) -> None:
    """Low stock, lots expiring soon or expired, and certificates lapsing soon, grouped by point. Exit 0 (alerts
    are news, not failures); 1 only when --point names no point."""
    settings = AlertSettings.from_config(current_app.config, expiry_days=days)
    if code:
        point = get_by_code(code)
        if point is None:
            raise click.ClickException(f"no sales point has the code {code!r}.")
        points = [point]
    else:
        points = list_open_points()
    day = today()
    collected = _collect_alerts(points, day, settings)
    if output == "json":
        click.echo(_as_json(day, settings, collected))
        return
    click.echo(f"Alerts on {format_date(day)}: stock below threshold, lots expiring within {settings.expiry_days} "
               f"days, certificates lapsing within {settings.certificate_days} days.")
    for point, point_alerts in collected:
        if point_alerts or code:
            click.echo(f"\n{point.code}  {point.name}: {point_alerts.count} alert(s)")
            click.echo("\n".join(_alert_lines(point_alerts)) or "  no alert")
    with_alerts = sum(1 for _, point_alerts in collected if point_alerts)
    total = sum(point_alerts.count for _, point_alerts in collected)
    click.echo(f"\n{len(collected)} point(s) checked, {with_alerts} with alerts, {total} alert(s) in total.")
