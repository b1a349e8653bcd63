"""`flask audit …`: the nightly automatic checks (`flask audit run`) and loading the criteria sets
(`flask audit load-criteria`); `flask certificates alerts`, the nightly certificate expiry alerts (a command of the
certificates group, written here because the alerts need sales points and stock, above certification). Each
command is one unit of work: it commits once at the end and rolls back on any error."""
import sys

import click
from flask.cli import AppGroup

from shop.audit.certificate_alerts import OFFICER, POINT, PRODUCER, send_expiry_alerts
from shop.audit.checks.snapshots import points_to_check, run_checks_and_store
from shop.audit.criteria.services import current_set, get_set_by_code, list_sets, load_criteria_sets
from shop.certification.cli import certificates_cli
from shop.core.clock import format_date, today
from shop.core.unit_of_work import command_unit

audit_cli = AppGroup("audit", help="Audit sales points against the Ministry criteria.")


@audit_cli.command("run")
@click.option("--set", "set_code", metavar="CODE",
              help="Criteria set, e.g. 950/QĐ-BCT (default: the set in force today, else the latest).")
@click.option("--point", "point_code", metavar="CODE", help="Only this point (default: every point not closed).")
def run(set_code: str | None, point_code: str | None) -> None:
    """Compute the automatic checks of every point and store a dated snapshot per point."""
    day = today()
    if set_code:
        criteria_set = get_set_by_code(set_code)
        if criteria_set is None:
            known = ", ".join(s.code for s in list_sets()) or "none loaded"
            raise click.ClickException(f"no criteria set has the code {set_code!r} (known: {known}).")
    else:
        criteria_set = current_set(day)
        if criteria_set is None:
            raise click.ClickException("no criteria set is loaded: run `flask audit load-criteria` first.")
    points = points_to_check(point_code)
    if point_code and not points:
        raise click.ClickException(f"no sales point has the code {point_code!r}.")
    automatic = sum(1 for criterion in criteria_set.criteria if criterion.auto_check is not None)
    with click.progressbar(length=len(points), label=f"Checking points against {criteria_set.code}",
                           file=sys.stderr, show_pos=True) as bar:
        with command_unit():
            report = run_checks_and_store(criteria_set, points, day=day, progress=bar.update)
    click.echo(f"Run {report.run_id} on {format_date(day)}: {report.points} point(s) checked against "
               f"{criteria_set.code} ({automatic} automatic criteria) in {report.seconds:.1f} s.")
    click.echo(f"{report.failing} point(s) failing a binding criterion, {report.advisory_only} failing only "
               f"advisory criteria.")
    if report.failures:
        click.echo("Failures by criterion: " + ", ".join(f"{code} {count}"
                                                         for code, count in sorted(report.failures.items())) + ".")


@audit_cli.command("load-criteria")
def load_criteria() -> None:
    """Load the criteria sets of Decisions 920 and 950 from seed/criteria.json (idempotent; criteria edited by
    officers keep their values)."""
    with command_unit():
        report = load_criteria_sets()
    click.echo(f"Criteria sets {', '.join(report.codes)}: {report.sets_created} set(s) and "
               f"{report.criteria_created} criteria created, {report.criteria_updated} updated from the file.")


@certificates_cli.command("alerts")
def alerts_command() -> None:
    """Send the certificate expiry alerts due today (90, 60 and 30 days before the end of validity), each once;
    for a nightly job."""
    with command_unit():
        summary = send_expiry_alerts()
    if not summary.certificates:
        click.echo("No certificate reached an alert threshold today: nothing sent.")
        return
    kinds = summary.by_kind
    click.echo(f"{summary.certificates} certificate(s) reached an alert threshold; {summary.messages} email(s) "
               f"sent: {kinds[PRODUCER]} to producers, {kinds[POINT]} to point managers, "
               f"{kinds[OFFICER]} to trade officers.")
    for email in summary.recipients:
        click.echo(f"  {email}")
    sys.stdout.flush()
