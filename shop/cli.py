"""Command-line commands: `flask users …`, `flask seed …`, `flask search …`, `flask inventory …`.

Each command is one unit of work: services flush, the command commits once at the end and rolls back on any
error. Refusals (a DomainError) are printed to stderr as "Error: …" with exit code 1. Commands speak English,
including the services' messages (the site's default locale is Vietnamese)."""
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from shop.accounts.models import Role
from shop.accounts.services import create_api_token, create_user, get_user_by_email
from shop.audit.cli import audit_cli  # also adds `flask certificates alerts`
from shop.audit.reports.cli import report_command
from shop.books.cli import books_cli  # also adds `flask inventory verify`, its older name
from shop.certification.cli import certificates_cli
from shop.core.unit_of_work import command_unit
from shop.inventory.cli import inventory_cli
from shop.orders.cli import orders_cli
from shop.payments.cli import payments_cli
from shop.producers.queries import get_by_slug
from shop.producers.services import attach_member
from shop.sales_points.queries import get_by_code
from shop.sales_points.services import assign_manager
from shop.search.cli import search_cli
from shop.seeding import ensure_scale_allowed, scale_steps, seed_demo, seed_scale

users_cli = AppGroup("users", help="Manage user accounts.")
seed_cli = AppGroup("seed", help="Load demo data or benchmark data.")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(search_cli)  # the search package owns its command group (`flask search reindex`)
    app.cli.add_command(inventory_cli)
    app.cli.add_command(orders_cli)
    app.cli.add_command(payments_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(report_command)
    app.cli.add_command(books_cli)


# --- users -------------------------------------------------------------------------------------------------

@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role], case_sensitive=False),
              help="The account's role.")
@click.option("--password", help="The password (at least 8 characters). Asked for, hidden, when omitted.")
@click.option("--name", "full_name", default="", help="Full name.")
@click.option("--producer", "producer_slug", metavar="SLUG",
              help="Producer the account belongs to (role producer).")
@click.option("--point", "point_codes", metavar="CODE", multiple=True,
              help="Sales point the account manages (role point_manager); repeat for several points.")
def users_create(email: str, role: str, password: str | None, full_name: str, producer_slug: str | None,
                 point_codes: tuple[str, ...]) -> None:
    """Create an account, e.g. `flask users create ana@example.vn --role point_manager --point DN-XL-01`."""
    role = Role(role.lower())
    if producer_slug and role != Role.PRODUCER:
        raise click.UsageError("--producer is only for accounts with the role producer.")
    if point_codes and role != Role.POINT_MANAGER:
        raise click.UsageError("--point is only for accounts with the role point_manager.")
    # Everything that can be checked is checked before the password is asked for.
    if get_user_by_email(email) is not None:
        raise click.ClickException(f"An account with the email {email.strip().lower()} already exists.")
    producer = None
    if producer_slug:
        producer = get_by_slug(producer_slug)
        if producer is None:
            raise click.ClickException(f"No producer has the slug {producer_slug!r}.")
    points = []
    for code in point_codes:
        point = get_by_code(code)
        if point is None:
            raise click.ClickException(f"No sales point has the code {code!r}.")
        points.append(point)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with command_unit():
        user = create_user(email, password, role=role, full_name=full_name)
        if producer is not None:
            attach_member(producer, user)
        for point in points:
            assign_manager(point, user)
    manages = [producer.name] if producer else [point.code for point in points]
    suffix = f" ({', '.join(manages)})." if manages else "."
    click.echo(f"Created the {role.value} account {user.email}{suffix}")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'POS tablet at DN-XL-01'.")
def users_token(email: str, name: str) -> None:
    """Create a bearer token for the JSON API (Authorization: Bearer …). The secret is printed once."""
    user = get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account has the email {email.strip().lower()}.")
    with command_unit():
        _token, secret = create_api_token(user, name)
    click.echo(f"API token for {user.email} ({user.role.value}); keep it secret, it is not shown again:")
    click.echo(secret)


# --- seed --------------------------------------------------------------------------------------------------

@seed_cli.command("demo")
@click.option("--no-images", is_flag=True, help="Skip the generated placeholder pictures (faster).")
def seed_demo_command(no_images: bool) -> None:
    """Load the demo data from seed/ (idempotent: running it again creates nothing new)."""
    with command_unit():
        report = seed_demo(images=not no_images)
    created = ", ".join(f"{count} {what}" for what, count in sorted(report.created.items()))
    click.echo(f"Demo data: created {created or 'nothing (already loaded)'}.")
    totals = ", ".join(f"{count} {what}" for what, count in report.totals.items())
    click.echo(f"In the database: {totals}.")
    click.echo("")
    click.echo("Demo accounts (password: ocop-demo)")
    rows = [("Email", "Role", "Manages")] + [(a.email, a.role, a.manages or "—") for a in report.accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for email, role_name, manages in rows:
        click.echo(f"  {email:<{widths[0]}}  {role_name:<{widths[1]}}  {manages}")


@seed_cli.command("scale")
@click.option("--products", default=20000, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--producers", default=8000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--points", default=1000, show_default=True, type=click.IntRange(0, 100_000))
@click.option("--seed", "random_seed", default=42, show_default=True,
              help="Random seed (same seed, same data).")
@click.option("--movements", default=0, show_default=True, type=click.IntRange(0, 100_000_000),
              help="Stock ledger rows to generate at the open points (the inventory benchmark uses 1000000).")
def seed_scale_command(products: int, producers: int, points: int, random_seed: int, movements: int) -> None:
    """Generate a large catalogue for benchmarks (refused when more than 1,000 products exist)."""
    with command_unit():
        ensure_scale_allowed()  # before the progress bar, so a refusal is a clean one-line message
        with click.progressbar(length=scale_steps(products, producers, points, movements),
                               label="Generating scale data", show_percent=True, show_eta=True,
                               file=sys.stderr) as bar:
            report = seed_scale(products=products, producers=producers, points=points, seed=random_seed,
                                progress=bar.update, movements=movements)
    click.echo(f"Scale data: {report.producers} producers ({report.documents} documents), {report.products} "
               f"products, {report.certificates} certificates, {report.points} sales points carrying "
               f"{report.assortment} products, in {report.seconds:.1f} s.")
    click.echo("Certificate histories: " + ", ".join(f"{n} {plan}" for plan, n in report.plans.items()) + ".")
    if movements:
        stock = report.stock
        click.echo(f"Stock: {stock.movements} ledger rows, {stock.levels} stock levels of {stock.lots} lots, "
                   f"{stock.counter_sales} counter sales, {stock.managers} point managers; busiest point "
                   f"{stock.busy_point or '—'} (30 days of sales).")
    click.echo("Build the search index with `flask search reindex`.")
