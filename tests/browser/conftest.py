"""A real server and a real Chromium for the browser tests.

The server is `flask run` in a subprocess on a free port, over a temporary SQLite file migrated, seeded with
the demo data and indexed through the same `flask` commands `make run` uses. Chromium is Debian's
/usr/bin/chromium driven by Playwright; no browser is ever downloaded. Without /usr/bin/chromium the
tests skip, except in CI (CI=true) where that is a failure.

Card payments go to localstripe (PyPI), started beside the server on another free port: the server's Stripe
SDK talks to it (STRIPE_API_BASE), the pay page loads the Stripe.js replacement it serves (STRIPE_JS_URL) and
it posts signed webhooks back to the server."""
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live_server import free_port, localstripe, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Quiet, sandbox-free Chromium: this machine has no network beyond loopback and runs as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
WEBHOOK_SECRET = "whsec_browser_test"


def _flask(args: list[str], env: dict, log: Path, timeout: int = 300) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout, check=False)
    with log.open("a") as out:
        out.write(f"$ flask {' '.join(args)}\n{result.stdout}\n{result.stderr}\n")
    if result.returncode != 0:
        pytest.fail(f"`flask {' '.join(args)}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def _register_webhook(stripe_base: str, server_base: str) -> None:
    """localstripe signs its events with our secret and posts them to the shop's webhook."""
    data = urllib.parse.urlencode({"url": f"{server_base}/payments/stripe/webhook", "secret": WEBHOOK_SECRET})
    with urllib.request.urlopen(f"{stripe_base}/_config/webhooks/ocop", data=data.encode(), timeout=5) as response:
        assert response.status == 200


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of a seeded, indexed shop served by `flask run`, its card payments going to localstripe."""
    folder = tmp_path_factory.mktemp("live")
    with localstripe(folder) as stripe_base:
        yield from _serve(folder, stripe_base)


def _serve(folder: Path, stripe_base: str):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "TEST_DATABASE_URL", "SHOP_ENV", "UPLOAD_DIR", "SEARCH_INDEX_DIR")}
    env.update(DATABASE_URL=f"sqlite:///{folder / 'shop.sqlite'}", INSTANCE_PATH=str(folder),
               SECRET_KEY="browser-test-secret", PYTHONUNBUFFERED="1", MAIL_FOLDER=str(folder / "mail"),
               STRIPE_API_BASE=stripe_base, STRIPE_JS_URL=f"{stripe_base}/js.stripe.com/v3/",
               STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    env.pop("FLASK_APP", None)  # .flaskenv says where the app is, as for `make run`
    log = folder / "commands.log"
    for command in (["db", "upgrade"], ["seed", "demo"], ["search", "reindex"], ["audit", "run"]):
        _flask(command, env, log)

    port = free_port()
    server_log = (folder / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
                               "--no-reload", "--no-debugger"], cwd=ROOT, env=env, stdout=server_log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, folder / "server.log")
        _register_webhook(stripe_base, base)
        yield base
    finally:
        stop(server)
        server_log.close()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium); Playwright never downloads a browser here"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@contextmanager
def _page_of_new_context(browser, **options):
    """A page in a browser context of its own: its own cookies, as another person at another computer."""
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


DESKTOP = {"locale": "vi-VN", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def page(browser):
    with _page_of_new_context(browser, **DESKTOP) as page:
        yield page


@pytest.fixture
def staff_page(browser):
    """A second person beside `page`'s visitor: a point manager at the point's computer."""
    with _page_of_new_context(browser, **DESKTOP) as page:
        yield page


@pytest.fixture
def phone(browser):
    with _page_of_new_context(browser, locale="vi-VN", viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True, device_scale_factor=2) as page:
        yield page
