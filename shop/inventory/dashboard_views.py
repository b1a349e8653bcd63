"""A sales point's dashboard: stock value, sales of the last 30 days, top products, alerts; the alerts page with
the low-stock thresholds form. Every route sits behind point_area_guard (trade officers read, never post)."""
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import NumberInput

from shop.core.clock import today
from shop.inventory import reports
from shop.inventory.alerts import AlertSettings, alerts_for_point, thresholds_of
from shop.inventory.settings_services import set_low_stock_thresholds
from shop.sales_points.access import point_area_guard, point_from_url
from shop.web import form_status, submit_form

bp = Blueprint("dashboard_point_manage", __name__)
bp.before_request(point_area_guard)

SALES_DAYS = 30
MAX_THRESHOLD = 100_000


def _settings() -> AlertSettings:
    return AlertSettings.from_config(current_app.config)


def _optional_url(endpoint: str, **values) -> str | None:
    """A link to a page of another part of the back office, only once that page exists."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


# --- the chart: bar geometry for a server-rendered SVG (no script, no inline style) ----------------------------

@dataclass(frozen=True)
class Bar:
    day: date
    total_vnd: int
    count: int
    x: float
    y: float
    width: float
    height: float
    label: bool  # this bar's date is written under the axis


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    top: float
    max_vnd: int
    bars: list[Bar]

    @property
    def total_vnd(self) -> int:
        return sum(bar.total_vnd for bar in self.bars)

    @property
    def count(self) -> int:
        return sum(bar.count for bar in self.bars)

    @property
    def best(self) -> Bar | None:
        best = max(self.bars, key=lambda bar: bar.total_vnd, default=None)
        return best if best and best.total_vnd else None


def sales_chart(days: list[reports.SalesDay], width: int = 640, height: int = 220) -> Chart:
    """Bars scaled to the best day; every 7th day from today labelled, so today always is."""
    left, right, top, bottom = 8, 8, 24, 28
    slot = (width - left - right) / max(len(days), 1)
    plot = height - top - bottom
    peak = max((day.total_vnd for day in days), default=0)
    bars = []
    for index, day in enumerate(days):
        # A day with any sale keeps a visible sliver, however small next to the best day.
        bar_height = max(plot * day.total_vnd / peak, 1.5) if peak and day.total_vnd else 0
        bars.append(Bar(day.day, day.total_vnd, day.count, x=round(left + index * slot + slot * 0.15, 2),
                        y=round(top + plot - bar_height, 2), width=round(slot * 0.7, 2),
                        height=round(bar_height, 2), label=(len(days) - 1 - index) % 7 == 0))
    return Chart(width, height, baseline=top + plot, top=top, max_vnd=peak, bars=bars)


# --- pages -------------------------------------------------------------------------------------------------------

@bp.route("/<code>")
def dashboard(code: str):
    point = point_from_url(code)
    day = today()
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return render_template(
        "inventory/dashboard/dashboard.html", point=point, day=day,
        value=reports.stock_value(point.id),
        chart=sales_chart(reports.daily_sales(point.id, today=day, tz=zone, days=SALES_DAYS)),
        top=reports.top_products(point.id, today=day, tz=zone, days=SALES_DAYS),
        alerts=alerts_for_point(point, day, _settings()), settings=_settings(),
        stock_url=_optional_url("stock_point_manage.stock", code=point.code))


class ThresholdsForm(FlaskForm):
    """One optional whole-number field per product of the point, named threshold_<product id>."""

    @classmethod
    def for_rows(cls, rows):
        fields = {f"threshold_{row.product.id}": IntegerField(
            row.product.name, widget=NumberInput(min=0, step=1),
            validators=[Optional(), NumberRange(min=0, max=MAX_THRESHOLD, message=_l(
                "Enter a whole number from 0 to %(max)s, or leave it empty for the default.", max=MAX_THRESHOLD))])
            for row in rows}
        form_class = type("PointThresholdsForm", (cls,), fields)
        return form_class(data={f"threshold_{row.product.id}": row.threshold for row in rows})

    def field_for(self, product):
        return self[f"threshold_{product.id}"]

    def thresholds(self, rows) -> dict:
        return {row.product: self.field_for(row.product).data for row in rows}


def _render_alerts(point, rows, form, status: int = 200):
    day = today()
    return render_template("inventory/dashboard/alerts.html", point=point, day=day, rows=rows, form=form,
                           alerts=alerts_for_point(point, day, _settings()), settings=_settings()), status


@bp.route("/<code>/alerts")
def alerts(code: str):
    point = point_from_url(code)
    rows = thresholds_of(point.id, today())
    return _render_alerts(point, rows, ThresholdsForm.for_rows(rows))


@bp.route("/<code>/thresholds", methods=["POST"])
def thresholds(code: str):
    point = point_from_url(code)
    rows = thresholds_of(point.id, today())
    form = ThresholdsForm.for_rows(rows)
    default_field = f"threshold_{rows[0].product.id}" if rows else "csrf_token"
    if submit_form(form, lambda: set_low_stock_thresholds(point, form.thresholds(rows), actor=current_user),
                   success=_("The low-stock thresholds are saved."), default_field=default_field):
        return redirect(url_for(".alerts", code=point.code, _anchor="thresholds"), code=303)
    return _render_alerts(point, rows, form, form_status())
