"""OCOP marketplace. `create_app()` reads as the table of contents of the application."""
import os
from pathlib import Path

from flask import Flask

from shop.config import DefaultConfig, apply_production_rules, ensure_secret_key, load_environment

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=os.environ.get("INSTANCE_PATH", str(ROOT / "instance")),
                instance_relative_config=True)
    configure(app, test_config)
    register_extensions(app)
    import_models()
    from shop.web import IdConverter

    app.url_map.converters["int"] = IdConverter  # before the routes: a huge id in a URL is a 404, never a 500
    register_blueprints(app)
    register_domain_hooks(app)
    register_commands(app)
    from shop import web

    web.init_app(app)
    trust_proxies(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_HOPS reverse proxies, take the client's address and scheme from X-Forwarded-For/-Proto (so
    the limiter counts real clients and HSTS is sent over HTTPS); only that many hops: a client cannot add its
    own. Without a proxy the headers are never trusted."""
    hops = int(app.config["PROXY_HOPS"] or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def configure(app: Flask, test_config: dict | None) -> None:
    app.config.from_object(DefaultConfig)
    load_environment(app.config)
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    ensure_secret_key(app.config, app.instance_path)
    app.config["UPLOAD_DIR"] = app.config["UPLOAD_DIR"] or os.path.join(app.instance_path, "uploads")
    app.config["SEARCH_INDEX_DIR"] = app.config["SEARCH_INDEX_DIR"] or os.path.join(app.instance_path,
                                                                                    "search-index")
    apply_production_rules(app.config)


def register_extensions(app: Flask) -> None:
    from shop.config import cache_config
    from shop.core.database import init_engine_events
    from shop.extensions import babel, csrf, db, journal_cache, limiter, login_manager, migrate, page_cache

    init_engine_events(app)  # before db.init_app, which builds the engine from these options
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    config = app.config
    page_cache.init_app(app, cache_config(config, "page", size=config["PAGE_CACHE_SIZE"],
                                          seconds=config["PAGE_CACHE_SECONDS"]))
    journal_cache.init_app(app, cache_config(config, "journal", size=config["TRACE_JOURNAL_CACHE_SIZE"],
                                             seconds=config["TRACE_JOURNAL_CACHE_SECONDS"]))
    from shop.web import select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(ROOT / "shop" / "translations"))


def import_models() -> None:
    """Every mapped class must be imported before Alembic or create_all look at the metadata."""
    import shop.accounts.models
    import shop.audit.models
    import shop.catalog.models
    import shop.certification.models
    import shop.checkout.models
    import shop.core.audit_trail
    import shop.core.once
    import shop.inventory.models
    import shop.orders.models
    import shop.payments.models
    import shop.producers.models
    import shop.sales_points.models
    import shop.search.models
    import shop.traceability.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from shop import api
    from shop.accounts.views import bp as accounts_bp
    from shop.audit.audits.point_views import bp as point_audits_bp
    from shop.audit.audits.views import bp as audits_bp
    from shop.audit.criteria.views import bp as audit_criteria_bp
    from shop.audit.dashboard.views import bp as department_bp
    from shop.audit.reports.views import bp as reports_bp
    from shop.catalog.manage_views import bp as catalog_manage_bp
    from shop.catalog.views import bp as catalog_bp
    from shop.certification.change_views import bp as change_requests_bp
    from shop.certification.department_views import bp as certification_department_bp
    from shop.certification.registry_views import bp as certificates_bp
    from shop.checkout.views import bp as checkout_bp
    from shop.inventory.counter_views import bp as counter_manage_bp
    from shop.inventory.dashboard_views import bp as dashboard_manage_bp
    from shop.inventory.file_views import bp as files_manage_bp
    from shop.inventory.stock_views import bp as stock_manage_bp
    from shop.orders.manage_views import bp as orders_manage_bp
    from shop.orders.views import bp as orders_bp
    from shop.payments.views import bp as payments_bp
    from shop.producers.views import bp as producers_bp
    from shop.recalls.views import bp as recalls_bp
    from shop.recalls.views import point_bp as recalls_point_bp
    from shop.recalls.views import producer_bp as recalls_producer_bp
    from shop.sales_points.department_views import bp as sales_points_department_bp
    from shop.sales_points.views import bp as sales_points_bp
    from shop.search.views import bp as search_bp
    from shop.traceability.label_views import bp as trace_labels_bp
    from shop.traceability.producer_views import bp as trace_producer_bp
    from shop.traceability.views import bp as trace_bp

    app.register_blueprint(catalog_bp)
    app.register_blueprint(producers_bp, url_prefix="/producers")
    app.register_blueprint(sales_points_bp, url_prefix="/points")
    app.register_blueprint(sales_points_department_bp, url_prefix="/department/points")
    app.register_blueprint(search_bp, url_prefix="/search")
    app.register_blueprint(accounts_bp, url_prefix="/account")
    app.register_blueprint(catalog_manage_bp, url_prefix="/manage/catalog")
    app.register_blueprint(checkout_bp)
    app.register_blueprint(orders_bp, url_prefix="/orders")
    app.register_blueprint(payments_bp)
    for point_manage_bp in (stock_manage_bp, counter_manage_bp, dashboard_manage_bp, files_manage_bp,
                            orders_manage_bp):
        app.register_blueprint(point_manage_bp, url_prefix="/manage/points")
    app.register_blueprint(certification_department_bp, url_prefix="/department/bases")
    api.init_app(app)  # the JSON API under /api/v1 (flask-smorest)
    app.register_blueprint(trace_bp)
    app.register_blueprint(trace_producer_bp, url_prefix="/manage/producer")
    app.register_blueprint(trace_labels_bp, url_prefix="/manage/producer")
    # These carry their own url_prefix (/department/recalls, /manage/producer, /manage/points, /department/changes).
    app.register_blueprint(recalls_bp)
    app.register_blueprint(recalls_producer_bp)
    app.register_blueprint(recalls_point_bp)
    app.register_blueprint(change_requests_bp)
    app.register_blueprint(department_bp, url_prefix="/department")
    app.register_blueprint(audit_criteria_bp, url_prefix="/department/criteria")
    app.register_blueprint(audits_bp, url_prefix="/department/audits")
    app.register_blueprint(point_audits_bp, url_prefix="/manage/points")
    app.register_blueprint(reports_bp, url_prefix="/department")  # /department/reports, /department/targets
    app.register_blueprint(certificates_bp, url_prefix="/department/certificates")


def register_domain_hooks(app: Flask) -> None:
    from shop.accounts import services as accounts_services
    from shop.orders import emails as order_emails
    from shop.payments import services as payment_services
    from shop.search import hooks as search_hooks

    accounts_services.init_app(app)
    order_emails.init_app(app)
    payment_services.init_app(app)
    search_hooks.init_app(app)


def register_commands(app: Flask) -> None:
    from shop import cli

    cli.init_app(app)
