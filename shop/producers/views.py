"""Storefront pages of producers."""
from flask import Blueprint, abort, render_template, request

from shop.catalog.queries import products_of_producer
from shop.certification.queries import current_certificates
from shop.core.clock import today
from shop.producers import queries
from shop.producers.models import LegalForm

bp = Blueprint("producers", __name__)


@bp.route("")
def producer_list():
    legal_form = request.args.get("legal_form")
    if legal_form not in {f.value for f in LegalForm}:
        legal_form = None
    return render_template("producers/producer_list.html", producers=queries.list_producers(legal_form=legal_form),
                           legal_form=legal_form)


@bp.route("/<slug>")
def producer_detail(slug: str):
    producer = queries.get_by_slug(slug)
    if producer is None:
        abort(404)
    products = products_of_producer(producer.id)
    certificates = current_certificates([p.id for p in products], today())
    return render_template("producers/producer_detail.html", producer=producer,
                           products=[p for p in products if p.id in certificates], certificates=certificates)
