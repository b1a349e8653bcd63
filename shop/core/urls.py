"""Absolute URLs on the site's public address (PUBLIC_URL), never on a request's Host header: a forged Host would
otherwise put another site's address into API links, QR codes and emails (and an order's secret key with it)."""
from urllib.parse import urlsplit

from flask import current_app


def public_base() -> str:
    """PUBLIC_URL without its trailing slash, e.g. https://ocop.dongnai.gov.vn."""
    return current_app.config["PUBLIC_URL"].rstrip("/")


def public_url_for(endpoint: str, **values) -> str:
    """url_for(endpoint, **values, _external=True), on PUBLIC_URL whatever request is being answered."""
    public = urlsplit(current_app.config["PUBLIC_URL"])
    urls = current_app.url_map.bind(public.netloc, script_name=public.path or "/", url_scheme=public.scheme or "https")
    return urls.build(endpoint, values, force_external=True)
