"""`flask search …`: maintenance of the full-text search index. Registered by shop.cli as `search_cli`."""
import time
from contextlib import ExitStack

import click
from flask.cli import AppGroup

search_cli = AppGroup("search", help="The full-text search index of products and producers.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the search index from the database (searches keep working meanwhile)."""
    from shop.search import index

    started = time.perf_counter()
    with ExitStack() as stack:
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = stack.enter_context(click.progressbar(length=total, label="Indexing products"))
            bar.update(done - bar.pos)

        count = index.rebuild(progress)
    click.echo(f"Indexed {count} certified products in {time.perf_counter() - started:.1f} s.")
