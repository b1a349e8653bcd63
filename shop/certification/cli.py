"""`flask certificates …`: import decisions from a spreadsheet, send expiry alerts.

`flask certificates import FILE [--dry-run]` checks the whole file first and prints every problem as
"row R, column C: message"; with any problem it imports nothing and exits 1. The `alerts` command lives with the
alerts in shop/audit/cli.py (it needs sales points and stock, above this domain) and joins this
group from there."""
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from shop.certification import imports
from shop.core.errors import DomainError
from shop.core.unit_of_work import command_unit

certificates_cli = AppGroup("certificates", help="OCOP certificates registry.")


@certificates_cli.command("import")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report what would be imported; write nothing.")
def import_command(path: Path, dry_run: bool) -> None:
    """Import OCOP certificates from a provincial list (.xlsx or .csv, one row per product). All or nothing:
    exit 1 with every row error when the file has any."""
    started = time.perf_counter()
    province_code = current_app.config["HOME_PROVINCE_CODE"]
    with force_locale("en"):
        try:
            sheet = imports.read_sheet(path.read_bytes(), path.name)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        preview = imports.preview_import(sheet, province_code=province_code)
        if not preview.ok:
            for error in preview.errors:
                click.echo(str(error), err=True)
            counts = preview.counts
            raise click.ClickException(
                f"{counts['errors']} problem(s) in {counts['rows_with_errors'] or 'the header of'} "
                f"{'row(s) of ' if counts['rows_with_errors'] else ''}{path.name}; nothing was imported.")
        counts = preview.counts
    with command_unit(keep=not dry_run):
        summary = imports.commit_import(preview, province_code=province_code)
    if dry_run:
        click.echo(f"Dry run: {counts['rows']} row(s) checked, no error. Would record {summary.certificates} "
                   f"certificate(s), create {summary.new_producers} producer(s) and {summary.new_products} "
                   f"product(s); {summary.skipped} already recorded. Nothing was imported.")
        return
    click.echo(f"Imported {summary.certificates} certificate(s) from {counts['rows']} row(s): "
               f"{summary.new_producers} new producer(s), {summary.new_products} new product(s), "
               f"{summary.skipped} already recorded and skipped ({time.perf_counter() - started:.1f} s).")
    sys.stdout.flush()
