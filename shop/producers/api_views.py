"""Producer endpoint of the JSON API: the profile and its certified products."""
from flask import Blueprint, abort

from shop import api
from shop.catalog.queries import products_of_producer
from shop.certification.queries import current_certificates
from shop.core.clock import today
from shop.producers import queries

bp = Blueprint("producers_api", __name__)
bp.after_request(api.public_cache)


@bp.route("/producers/<slug>")
def producer_detail(slug: str):
    if problems := api.check_lang():
        return api.parameter_error(problems)
    producer = queries.get_by_slug(slug)
    if producer is None:
        abort(404)
    day = today()
    products = products_of_producer(producer.id)
    certificates = current_certificates([p.id for p in products], day)
    certified = [(p, certificates[p.id]) for p in products if p.id in certificates]
    return api.producer_json(producer, certified, day)
