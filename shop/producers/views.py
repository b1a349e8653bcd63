"""Storefront pages of producers."""
from flask import Blueprint, abort, current_app, render_template, request

from shop.catalog.queries import products_of_producer
from shop.certification.queries import current_certificates
from shop.core.clock import today
from shop.core.pagination import last_page
from shop.producers import queries
from shop.producers.models import LegalForm
from shop.web import cached_page, page_arg

bp = Blueprint("producers", __name__)


@bp.route("")
@cached_page
def producer_list():
    legal_form = request.args.get("legal_form")
    if legal_form not in {f.value for f in LegalForm}:
        legal_form = None
    page, per_page = page_arg(), current_app.config["PER_PAGE"]
    producers, total = queries.list_producers(legal_form=legal_form, page=page, per_page=per_page)
    if page > last_page(total, per_page):  # past the end (a tampered or stale link): the last page
        page = last_page(total, per_page)
        producers, total = queries.list_producers(legal_form=legal_form, page=page, per_page=per_page)
    return render_template("producers/producer_list.html", producers=producers, legal_form=legal_form,
                           pager={"page": page, "pages": last_page(total, per_page)}, total=total)


@bp.route("/<slug>")
@cached_page
def producer_detail(slug: str):
    producer = queries.get_by_slug(slug)
    if producer is None:
        abort(404)
    products = products_of_producer(producer.id)
    certificates = current_certificates([p.id for p in products], today())
    return render_template("producers/producer_detail.html", producer=producer,
                           products=[p for p in products if p.id in certificates], certificates=certificates)
