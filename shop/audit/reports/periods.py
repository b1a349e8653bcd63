"""Report periods: a quarter, a half-year, a year or any date range of the province's calendar, parsed from
the names people type (`2025-Q1`, `2025-H2`, `2025`) and turned into UTC bounds for the queries."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l

from shop.core.clock import VN_TZ, format_date
from shop.core.errors import DomainError


class PeriodError(DomainError):
    code = "bad_period"


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    slug: str  # "2025-Q3", "2025-H1", "2025" or "2025-01-15_2025-02-20": file names

    @property
    def label(self) -> str:
        return f"{format_date(self.start)} – {format_date(self.end)}"

    @property
    def filename_stem(self) -> str:
        return f"bao-cao-ocop-{self.slug}"


def quarter(year: int, number: int) -> Period:
    if number not in (1, 2, 3, 4):
        raise PeriodError(str(_l("A quarter is 1, 2, 3 or 4.")), field="quarter")
    first = 3 * number - 2
    return Period(date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]),
                  f"{year}-Q{number}")


def half(year: int, number: int) -> Period:
    if number not in (1, 2):
        raise PeriodError(str(_l("A half-year is 1 or 2.")), field="half")
    return (Period(date(year, 1, 1), date(year, 6, 30), f"{year}-H1") if number == 1
            else Period(date(year, 7, 1), date(year, 12, 31), f"{year}-H2"))


def whole_year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


def date_range(start: date, end: date) -> Period:
    """Any range; a range that is exactly a quarter, a half-year or a year takes that name."""
    if end < start:
        raise PeriodError(str(_l("The start of the period is after its end.")), field="end")
    if start.year == end.year:
        for candidate in [whole_year(start.year), half(start.year, 1), half(start.year, 2)] + \
                         [quarter(start.year, q) for q in (1, 2, 3, 4)]:
            if (candidate.start, candidate.end) == (start, end):
                return candidate
    return Period(start, end, f"{start.isoformat()}_{end.isoformat()}")


def _year(text: str) -> int:
    year = int(text)
    if not 2000 <= year <= 2100:
        raise PeriodError(str(_l("Give a year between 2000 and 2100.")), field="year")
    return year


def parse_period_name(text: str) -> Period:
    """"2025", "2025-H1", "2025-Q3" (case-insensitive)."""
    match = re.fullmatch(r"\s*(\d{4})(?:-([QqHh])([1-4]))?\s*", text or "")
    if not match:
        raise PeriodError(str(_l("Unknown period %(name)s: write 2025, 2025-H1 or 2025-Q3.", name=text)),
                          field="period")
    year = _year(match.group(1))
    if match.group(2) is None:
        return whole_year(year)
    number = int(match.group(3))
    return quarter(year, number) if match.group(2).upper() == "Q" else half(year, number)


def parse_day(text: str) -> date:
    """"2025-07-01" or "01/07/2025"."""
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise PeriodError(str(_l("%(text)s is not a date: write 2025-07-01 or 01/07/2025.", text=text)), field="date")


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the province's time, as UTC-aware datetimes."""
    return (datetime.combine(start, time.min, tzinfo=VN_TZ),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=VN_TZ))
