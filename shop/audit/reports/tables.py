"""The report as plain data: tables of typed columns, rows and a totals row, which the page, the XLSX and PDF
files and `flask report` all render."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from shop.audit.reports.periods import Period

TEXT, INT, VND, DATE = "text", "int", "vnd", "date"


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT  # text, int, vnd (integer đồng), date


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    totals: list | None = None  # same length as columns; None where a total means nothing
    note: str = ""
    sheet: str = ""  # a short name for the spreadsheet tab (at most 31 characters)

    def column(self, label_or_index) -> list:
        index = label_or_index if isinstance(label_or_index, int) else \
            [c.label for c in self.columns].index(label_or_index)
        return [row[index] for row in self.rows]

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "sheet": self.sheet, "note": self.note,
                "columns": [{"label": c.label, "kind": c.kind} for c in self.columns],
                "rows": [[_json_value(v) for v in row] for row in self.rows],
                "totals": None if self.totals is None else [_json_value(v) for v in self.totals]}


def _json_value(value):
    return value.isoformat() if isinstance(value, date) else value


@dataclass
class Report:
    period: Period
    generated_at: datetime
    tables: list[Table]

    @property
    def start(self) -> date:
        return self.period.start

    @property
    def end(self) -> date:
        return self.period.end

    @property
    def title(self) -> str:
        return str(_l("OCOP programme report"))

    def table(self, key: str) -> Table:
        return next(table for table in self.tables if table.key == key)

    def as_dict(self) -> dict:
        return {"title": self.title, "period": {"start": self.start.isoformat(), "end": self.end.isoformat(),
                                                "name": self.period.slug},
                "generated_at": self.generated_at.isoformat(), "tables": [t.as_dict() for t in self.tables]}
