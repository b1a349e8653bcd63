"""The index directory: opening and creating the indexes, and the one writer at a time.

Several processes (server workers) share the directory. Whoosh's write lock is an fcntl lock on a file, so
it holds across processes and between threads; writers wait for it, polling."""
import os
import re
import time
from contextlib import contextmanager

from flask import current_app
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError

from shop.search import whoosh_internals
from shop.search.schemas import SPECS, IndexSpec

LOCK_TIMEOUT = 30.0       # seconds a writer waits for another process's writer
LOCK_POLL = 0.01          # seconds between two tries of a held lock

__all__ = ["LockError", "StaleIndex", "directory", "open_index", "schema_is_current", "writer"]


class StaleIndex(RuntimeError):
    """The index on disk was built with other fields than this code's: `flask search reindex` rebuilds it."""


def directory() -> str:
    return current_app.config["SEARCH_INDEX_DIR"]


def _acquire(lock, timeout: float = LOCK_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not lock.acquire():
        if time.monotonic() >= deadline:
            raise LockError(f"the search index has been locked by another writer for {timeout:g} s")
        time.sleep(LOCK_POLL)


def open_index(path: str, spec: IndexSpec):
    os.makedirs(path, exist_ok=True)
    storage = FileStorage(path)
    if not storage.index_exists(spec.name):
        # Created under the write lock: creating over an index another process just made would wipe it.
        lock = storage.lock(spec.name + "_WRITELOCK")
        _acquire(lock)
        try:
            if not storage.index_exists(spec.name):
                storage.create_index(spec.schema(), indexname=spec.name)
        finally:
            lock.release()
    return storage.open_index(spec.name)


def schema_is_current(schema, spec: IndexSpec) -> bool:
    return sorted(schema.names()) == sorted(spec.schema().names())


@contextmanager
def writer(spec: IndexSpec, *, rebuilding: bool = False, **options):
    """One writer at a time across processes (LockError after SEARCH_LOCK_TIMEOUT seconds). Callers read
    the database while they hold it, so whichever writer comes last writes the latest committed state."""
    ix = open_index(directory(), spec)
    timeout = current_app.config.get("SEARCH_LOCK_TIMEOUT", LOCK_TIMEOUT)
    index_writer = ix.writer(timeout=timeout, delay=LOCK_POLL, **options)
    try:
        if rebuilding:
            # The commit, which replaces every segment, records this schema.
            whoosh_internals.replace_schema(index_writer, spec.schema())
        elif not schema_is_current(index_writer.schema, spec):
            raise StaleIndex(f"the {spec.name} index has other fields: run `flask search reindex`")
        yield index_writer
    finally:
        if not index_writer.is_closed:  # not committed: an error, or nothing to write
            index_writer.cancel()


_VERSIONED = re.compile(r"^_?(products|producers)_v(\d+)[_.]")


def remove_old_versions() -> None:
    """Files of indexes built by an earlier schema version."""
    current = {spec.name for spec in SPECS}
    path = directory()
    for filename in os.listdir(path):
        match = _VERSIONED.match(filename)
        if match and f"{match.group(1)}_v{match.group(2)}" not in current:
            try:
                os.remove(os.path.join(path, filename))
            except OSError:
                pass
