"""Configuration. Defaults here; the environment overrides them (see README, "Configuration")."""
import os
import secrets
from pathlib import Path
from typing import ClassVar


class DefaultConfig:
    # "development" (default), "production" or "testing". Production refuses unsafe defaults.
    SHOP_ENV = "development"
    # A SQLite file inside the instance folder unless DATABASE_URL says otherwise.
    SQLALCHEMY_DATABASE_URI = "sqlite:///shop.sqlite"
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
    SECRET_KEY: str | None = None
    # Folders for user uploads and the search index; None means "<instance>/uploads", "<instance>/search-index".
    UPLOAD_DIR: str | None = None
    SEARCH_INDEX_DIR: str | None = None
    # Largest request body (uploads): 16 MB.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Images: largest pixel count accepted (decompression bombs are refused far below Pillow's own limit).
    MAX_IMAGE_PIXELS = 40_000_000
    IMAGE_WIDTHS = (320, 640, 1280)

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # The province the site serves first (administrative code of the 2025 units; 75 = Đồng Nai).
    HOME_PROVINCE_CODE = 75

    # Login throttling (Flask-Limiter). Redis in production: RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379
    RATELIMIT_STORAGE_URI = "memory://"
    # Set on every app: the limiter is one object, and without the key an app inherits the last app's choice.
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"           # per client address
    LOGIN_ACCOUNT_RATE_LIMIT = "20 per minute;100 per hour"  # per email tried, from any address
    CHECKOUT_RATE_LIMIT = "10 per minute;30 per hour"        # POST /checkout per client address
    CHECKOUT_CONTACT_RATE_LIMIT = "5 per minute;20 per hour"  # POST /checkout per phone and per email typed
    RATELIMIT_HEADERS_ENABLED = True
    # Server worker processes (gunicorn's WEB_CONCURRENCY): with more than one, memory:// counts per process.
    WORKERS = 1
    # Reverse proxies in front that set X-Forwarded-For/-Proto (0: none, the headers are ignored).
    PROXY_HOPS = 0

    # werkzeug.security method; tests use a cheaper one.
    PASSWORD_HASH_METHOD = "scrypt"
    DEMO_PASSWORD = "ocop-demo"
    DEMO_EMAIL_DOMAIN = "demo.ocop.vn"  # the demo accounts (seed/accounts.json): refused at login in production

    # None: Secure in production (HTTPS only), not in development and tests (plain HTTP).
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Caches of rendered storefront pages (anonymous visitors) and trace journals. In this process unless
    # CACHE_REDIS_URL names a Redis, e.g. redis://127.0.0.1:6379/1: with several workers set it, so that they all
    # serve the same entries. Every key there starts with CACHE_KEY_PREFIX.
    CACHE_REDIS_URL: str | None = None
    CACHE_KEY_PREFIX = "ocop:"
    # Entries kept in the process (0 turns a cache off; Redis evicts by its own policy) and for how long. The page
    # key holds the catalogue version and the day, so an entry is never served after a change; the journal key
    # holds the journal's version, and its entries expire so that a renamed sales point shows within minutes.
    PAGE_CACHE_SIZE = 512
    PAGE_CACHE_SECONDS = 24 * 3600
    TRACE_JOURNAL_CACHE_SIZE = 256
    TRACE_JOURNAL_CACHE_SECONDS = 600

    # Stock: alerts and the storefront's availability bands.
    LOW_STOCK_THRESHOLD = 5          # default per point and product; managers set their own per product
    EXPIRY_ALERT_DAYS = 30           # lots expiring within this many days are flagged
    CERTIFICATE_ALERT_DAYS = 90      # certificates of products on the shelf expiring within this many days
    FEW_LEFT_THRESHOLD = 5           # storefront: "few left" at or below this many available units

    # Orders.
    MAX_QUANTITY_PER_PRODUCT = 20        # in a cart, per product
    UNPAID_CARD_HOLD_MINUTES = 30        # an unpaid card order releases its stock after this
    PICKUP_HOLD_HOURS = 48               # a pickup order holds its stock this long, then expires
    DELIVERY_POINT_CODE = None           # None: delivery orders are served from the provincial centre
    # Shipping fee by zone (VND); provinces not listed are in zone "far". Free from FREE_SHIPPING_FROM_VND.
    SHIPPING_ZONES: ClassVar[dict] = {"home": [75], "near": [79, 68, 80]}  # Đồng Nai; TP.HCM, Lâm Đồng, Tây Ninh
    SHIPPING_FEES_VND: ClassVar[dict] = {"home": 20_000, "near": 35_000, "far": 50_000}
    FREE_SHIPPING_FROM_VND = 500_000
    ALCOHOL_ONLINE_SALES = True          # False: alcoholic products cannot be ordered online
    # Holds one buyer (customer account, else phone or email) may have at once in orders not yet paid that still
    # hold stock, so that nobody can empty a shelf with unpaid orders. 0 turns a cap off.
    MAX_OPEN_ORDERS_PER_CONTACT = 3
    MAX_HELD_UNITS_PER_PRODUCT = 20

    # Payments (Stripe; in development and tests the SDK talks to localstripe, see the Makefile).
    STRIPE_API_BASE = None          # e.g. http://127.0.0.1:8420 for localstripe
    STRIPE_SECRET_KEY = "sk_test_localstripe"
    STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    STRIPE_WEBHOOK_SECRET = "whsec_localstripe"
    STRIPE_JS_URL = "https://js.stripe.com/v3/"

    # Mail (Flask-Mail). MAIL_FOLDER set: messages are written there as .eml files instead of being sent.
    MAIL_DEFAULT_SENDER = "OCOP Đồng Nai <no-reply@ocop.example.vn>"
    MAIL_FOLDER = None  # default in development: instance/mail
    MAIL_IN_BACKGROUND = True  # send after the commit on a background thread (the request does not wait)
    # The site's public address, for links in emails (never taken from a request's Host header).
    PUBLIC_URL = "http://127.0.0.1:5000"

    PER_PAGE = 24
    MAX_PER_PAGE = 100
    SEARCH_ENABLED = True
    # Seconds a search-index writer waits for another process's writer before giving up (logged; the
    # next change or `flask search reindex` repairs the index).
    SEARCH_LOCK_TIMEOUT = 30.0


def load_environment(config: dict) -> None:
    """Apply the documented environment variables on top of the defaults."""
    env = os.environ
    if env.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(env["DATABASE_URL"])
    for key in ("SECRET_KEY", "SHOP_ENV", "UPLOAD_DIR", "SEARCH_INDEX_DIR", "RATELIMIT_STORAGE_URI", "CACHE_REDIS_URL",
                "CACHE_KEY_PREFIX", "STRIPE_API_BASE",
                "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_JS_URL",
                "MAIL_DEFAULT_SENDER", "MAIL_FOLDER", "PUBLIC_URL", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD"):
        if env.get(key):
            config[key] = env[key]
    for key in ("LOGIN_ACCOUNT_RATE_LIMIT", "CHECKOUT_RATE_LIMIT", "CHECKOUT_CONTACT_RATE_LIMIT"):
        if env.get(key):
            config[key] = env[key]
    for key in ("PROXY_HOPS", "MAX_OPEN_ORDERS_PER_CONTACT", "MAX_HELD_UNITS_PER_PRODUCT"):
        if env.get(key):
            config[key] = int(env[key])
    if env.get("WEB_CONCURRENCY"):  # gunicorn's own default for --workers
        config["WORKERS"] = int(env["WEB_CONCURRENCY"])
    if env.get("MAIL_PORT"):
        config["MAIL_PORT"] = int(env["MAIL_PORT"])
    if env.get("MAIL_USE_TLS"):
        config["MAIL_USE_TLS"] = env["MAIL_USE_TLS"].lower() in ("1", "true", "yes")


def cache_config(config: dict, name: str, *, size: int, seconds: int) -> dict:
    """Flask-Caching settings of the cache `name`: Redis when CACHE_REDIS_URL is set (one store for every worker),
    else a SimpleCache of at most `size` entries in this process. Entries live `seconds`."""
    common = {"CACHE_DEFAULT_TIMEOUT": seconds, "CACHE_KEY_PREFIX": f"{config['CACHE_KEY_PREFIX']}{name}:"}
    if config.get("CACHE_REDIS_URL"):
        return {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": config["CACHE_REDIS_URL"]}
    return {**common, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": size}


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def ensure_secret_key(config: dict, instance_path: str) -> None:
    """Development: generate a key once into the instance folder. Production: refuse to run without one."""
    if config.get("SECRET_KEY"):
        return
    if config.get("SHOP_ENV") == "production":
        raise RuntimeError("SECRET_KEY must be set in the environment when SHOP_ENV=production.")
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    config["SECRET_KEY"] = key_file.read_text().strip()


# Public values shipped for development (localstripe, the local address): never acceptable in production.
UNSAFE_IN_PRODUCTION = {
    "STRIPE_WEBHOOK_SECRET": ("whsec_localstripe", "anyone could forge Stripe events with this public secret"),
    "STRIPE_SECRET_KEY": ("sk_test_localstripe", "the localstripe test key cannot take real payments"),
    "PUBLIC_URL": ("http://127.0.0.1:5000", "links in emails would point at the local machine"),
}


def apply_production_rules(config: dict) -> None:
    """Secure cookies in production (unless set explicitly); refuse to start with an unsafe default, naming each
    setting to change."""
    production = config.get("SHOP_ENV") == "production"
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if config.get(key) is None:
            config[key] = production
    if not production:
        return
    problems = [f"{key} is still the development value {default!r} ({why})"
                for key, (default, why) in UNSAFE_IN_PRODUCTION.items() if config.get(key) == default]
    if (config.get("RATELIMIT_ENABLED", True) and config.get("RATELIMIT_STORAGE_URI", "memory://") == "memory://"
            and int(config.get("WORKERS") or 1) > 1):
        problems.append(f"RATELIMIT_STORAGE_URI must be a shared store such as redis://127.0.0.1:6379 with "
                        f"{config['WORKERS']} workers (WEB_CONCURRENCY): memory:// counts per process")
    if config.get("DEMO_ACCOUNTS_ALLOWED", False):
        problems.append("DEMO_ACCOUNTS_ALLOWED cannot be enabled")
    if problems:
        raise RuntimeError("Refusing to start with SHOP_ENV=production: " + "; ".join(problems) + ".")
