"""Helpers for tests that start the real app in a subprocess server (the browser tests, the concurrency tests)."""
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
# Login and checkout throttling off and no hold caps: every test session comes from 127.0.0.1, and the concurrency
# tests' guests share one contact.
GUNICORN_APP = ("shop:create_app({'RATELIMIT_ENABLED': False, 'SEARCH_ENABLED': False, "
                "'MAX_OPEN_ORDERS_PER_CONTACT': 0, 'MAX_HELD_UNITS_PER_PRODUCT': 0})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen, log_path: Path, seconds: int = 60,
                  probe: str = "/healthz") -> None:
    """Return once the server answers `probe`; fail the test with its log if it exits or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(base + probe, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the server did not answer {probe} within {seconds} s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen, seconds: int = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def gunicorn(database_uri: str, folder: Path, *, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """The shop served by gunicorn on `database_uri` (the test's own database); yields its base URL and stops it
    (waiting for it) on the way out, before the test's fixtures empty the database. Login throttling is off: every
    test session logs in from 127.0.0.1."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("FLASK_APP", "SHOP_ENV", "TEST_DATABASE_URL")}
    env.update(DATABASE_URL=database_uri, INSTANCE_PATH=str(folder), SECRET_KEY="live-server-test",
               UPLOAD_DIR=str(folder / "uploads"), SEARCH_INDEX_DIR=str(folder / "index"), PYTHONUNBUFFERED="1")
    port = free_port()
    log_path = folder / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{port}", "--timeout", "60", "--chdir", str(ROOT), GUNICORN_APP],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log_path)
        yield base
    finally:
        stop(process)


def form_token(session: requests.Session, url: str) -> str:
    """The CSRF token of the form on `url` (GET with the session's cookies)."""
    from tests.conftest import CSRF_RE

    response = session.get(url, timeout=30)
    assert response.status_code == 200, (url, response.status_code)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def logged_in(base: str, email: str, password: str = "password123") -> requests.Session:
    """A requests session logged in as `email`, reading the site in English."""
    session = requests.Session()
    session.get(base + "/lang/en", timeout=30)
    token = form_token(session, base + "/account/login")
    response = session.post(base + "/account/login", data={"csrf_token": token, "email": email, "password": password},
                            allow_redirects=False, timeout=30)
    assert response.status_code in (302, 303), f"login of {email}: {response.status_code}"
    return session


def run_together(jobs: list) -> list:
    """Start every job at the same instant (a barrier); their results in order (an exception is a result)."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except Exception as error:  # noqa: BLE001 - a crash is a result the test reports
            results[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


# localstripe started through its own start() with its on-disk store off: the console script writes every change
# to /tmp/localstripe.pickle, which `make run`'s sandbox loads at start, so tests would otherwise overwrite (or,
# run in parallel, corrupt) a developer's sandbox.
_LOCALSTRIPE_WITHOUT_STORE = ("import localstripe.resources as r; r.Store.dump_to_disk = lambda self: None; "
                              "from localstripe.server import start; start()")


@contextmanager
def localstripe(folder: Path) -> Iterator[str]:
    """A localstripe (the Stripe API and its Stripe.js) on a free port, from scratch; yields its base URL."""
    port = free_port()
    log_path = folder / "localstripe.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-c", _LOCALSTRIPE_WITHOUT_STORE, "--port", str(port),
                                    "--from-scratch"], cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, log_path, seconds=30, probe="/js.stripe.com/v3/")
        yield base
    finally:
        stop(process)
