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
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    RATELIMIT_HEADERS_ENABLED = True

    # werkzeug.security method; tests use a cheaper one.
    PASSWORD_HASH_METHOD = "scrypt"
    DEMO_PASSWORD = "ocop-demo"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Storefront pages kept per process for anonymous visitors (0 turns the cache off).
    PAGE_CACHE_SIZE = 512

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
    for key in ("SECRET_KEY", "SHOP_ENV", "UPLOAD_DIR", "SEARCH_INDEX_DIR", "RATELIMIT_STORAGE_URI", "STRIPE_API_BASE",
                "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_JS_URL",
                "MAIL_DEFAULT_SENDER", "MAIL_FOLDER", "PUBLIC_URL", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD"):
        if env.get(key):
            config[key] = env[key]
    if env.get("MAIL_PORT"):
        config["MAIL_PORT"] = int(env["MAIL_PORT"])
    if env.get("MAIL_USE_TLS"):
        config["MAIL_USE_TLS"] = env["MAIL_USE_TLS"].lower() in ("1", "true", "yes")


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
