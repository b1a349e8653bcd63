"""`flask report`: the periodic report as XLSX, PDF or JSON.

    flask report --quarter 2025-Q3 --format xlsx --out bao-cao.xlsx
    flask report --from 2025-01-01 --to 2025-06-30 --format pdf
    flask report --year 2019 --format json            # JSON goes to stdout unless --out is given

Without --out, XLSX and PDF are written to ./bao-cao-ocop-<period>.<format>. Refusals (bad dates, start after
end, two kinds of period at once, an unknown format) print "Error: …" and exit non-zero."""
import json
import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from shop.audit.reports.build import build_report
from shop.audit.reports.pdf import build_pdf
from shop.audit.reports.periods import PeriodError, date_range, parse_day, parse_period_name
from shop.audit.reports.xlsx import build_xlsx

FORMATS = ("xlsx", "pdf", "json")
STEPS = 10  # tables built by build_report (one progress tick each)


def _period(start, end, quarter_name, half_name, year):
    chosen = [name for name, value in (("--quarter", quarter_name), ("--half", half_name), ("--year", year))
              if value]
    if start or end:
        chosen.append("--from/--to")
    if len(chosen) != 1:
        raise click.UsageError("Give exactly one period: --from and --to, --quarter, --half or --year "
                               f"(got {', '.join(chosen) or 'none'}).")
    try:
        if quarter_name:
            period = parse_period_name(quarter_name)
            if "Q" not in period.slug:
                raise click.UsageError(f"--quarter wants a quarter such as 2025-Q3, not {quarter_name}.")
            return period
        if half_name:
            period = parse_period_name(half_name)
            if "H" not in period.slug:
                raise click.UsageError(f"--half wants a half-year such as 2025-H1, not {half_name}.")
            return period
        if year:
            return parse_period_name(year)
        if not (start and end):
            raise click.UsageError("--from and --to go together.")
        return date_range(parse_day(start), parse_day(end))
    except PeriodError as error:
        raise click.ClickException(error.message) from error


@click.command("report", help="The periodic OCOP report (quarter, half-year, year or date range) as XLSX, PDF "
                              "or JSON.")
@click.option("--from", "start", metavar="DATE", help="First day (2025-07-01 or 01/07/2025).")
@click.option("--to", "end", metavar="DATE", help="Last day, included.")
@click.option("--quarter", "quarter_name", metavar="YYYY-QN", help="A quarter, e.g. 2025-Q3.")
@click.option("--half", "half_name", metavar="YYYY-HN", help="A half-year, e.g. 2025-H1.")
@click.option("--year", metavar="YYYY", help="A calendar year, e.g. 2025.")
@click.option("--format", "fmt", default="xlsx", show_default=True, metavar="|".join(FORMATS),
              help="xlsx, pdf or json.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Output file.")
@click.option("--lang", default="vi", show_default=True, type=click.Choice(["vi", "en"]),
              help="Language of the titles and headers.")
@with_appcontext
def report_command(start, end, quarter_name, half_name, year, fmt, out, lang):
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise click.ClickException(f"Unknown format {fmt!r}: use xlsx, pdf or json.")
    with force_locale(lang):
        period = _period(start, end, quarter_name, half_name, year)
        started = time.perf_counter()
        with click.progressbar(length=STEPS, label=f"Building the report {period.slug}", file=sys.stderr) as bar:
            report = build_report(period.start, period.end, period=period, progress=lambda _step: bar.update(1))
        if fmt == "json":
            content = json.dumps(report.as_dict(), ensure_ascii=False, indent=1).encode("utf-8")
        else:
            click.echo(f"Writing {fmt.upper()}…", err=True)
            content = build_xlsx(report) if fmt == "xlsx" else build_pdf(report)
    seconds = time.perf_counter() - started
    if fmt == "json" and not out:
        click.echo(content.decode("utf-8"))
        return
    path = Path(out or f"{period.filename_stem}.{fmt}")
    try:
        path.write_bytes(content)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror}") from error
    click.echo(f"Wrote {path} ({len(report.tables)} tables, {len(content):,} bytes) for "
               f"{period.start.isoformat()} – {period.end.isoformat()} in {seconds:.1f} s.")
