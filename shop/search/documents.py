"""What the search index knows about a product or a producer, read from the database.

Plain values only (no Whoosh here: `search.index` turns them into index documents). The loaders take an
explicit SQLAlchemy connection because they run after a commit, when the committing session may not emit SQL.
"""
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import sqlalchemy as sa

from shop.catalog.groups import GROUPS, SUBGROUPS
from shop.catalog.models import Product, ProductStatus
from shop.certification.models import MIN_CERTIFIED_STARS, Certificate
from shop.core.admin_units import FORMER_DISTRICTS, ward_name
from shop.producers.models import Producer

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DESCRIPTION_CHARS = 600   # enough to find a product by what it is; the page has the rest
STORY_CHARS = 400


@dataclass(frozen=True)
class Window:
    """Days (both included) during which a product is certified, and the star level in force then."""

    start: date
    end: date
    stars: int


@dataclass
class ProductDocument:
    id: int
    name: str
    maker: str                 # the producer's name
    body: str                  # description, group labels, locality
    group: str
    locality: str              # producer.former_district ("" when unknown)
    producer: str              # producer slug
    price: int
    published: int             # microseconds since the epoch, for "newest"
    windows: list[Window] = field(default_factory=list)


@dataclass
class ProducerDocument:
    id: int
    name: str
    body: str


def certified_windows(certificates: Iterable[tuple], today: date) -> list[Window]:
    """Disjoint periods from `today` on during which the product is OCOP-certified, with the best star level.

    `certificates` are (stars, decision_date, valid_until, withdrawn_on, superseded_on) rows. The rule is
    Certificate.status_on's: a certificate counts from its decision date until its valid_until, and stops the
    day it is withdrawn or superseded. Indexing the dates (not a yes/no) lets a search drop a certificate
    that lapsed since indexing without anything having to reindex on that day.
    """
    spans = []
    for stars, decided, valid_until, withdrawn_on, superseded_on in certificates:
        if stars < MIN_CERTIFIED_STARS:
            continue
        end = valid_until
        for stop in (withdrawn_on, superseded_on):
            if stop is not None:
                end = min(end, stop - timedelta(days=1))
        if end >= max(decided, today):
            spans.append((decided, end, stars))
    if not spans:
        return []
    # Cut the time line wherever a certificate starts or ends; each piece takes the best level in force.
    bounds = sorted({start for start, _, _ in spans} | {_day_after(end) for _, end, _ in spans})
    windows: list[Window] = []
    for start, next_start in pairwise(bounds):
        end = next_start - timedelta(days=1)
        levels = [stars for s, e, stars in spans if s <= start and end <= e]
        if not levels or end < today:
            continue
        best = max(levels)
        if windows and windows[-1].stars == best and _day_after(windows[-1].end) == start:
            windows[-1] = Window(windows[-1].start, end, best)
        else:
            windows.append(Window(start, end, best))
    return windows


def _day_after(day: date) -> date:
    return day if day == date.max else day + timedelta(days=1)


def published_product_ids(connection: sa.Connection) -> list[int]:
    return list(connection.scalars(
        sa.select(Product.id).where(Product.status == ProductStatus.PUBLISHED).order_by(Product.id)))


def product_ids_of_producers(connection: sa.Connection, producer_ids: Iterable[int]) -> set[int]:
    ids = list(producer_ids)
    if not ids:
        return set()
    return set(connection.scalars(sa.select(Product.id).where(Product.producer_id.in_(ids))))


def load_products(connection: sa.Connection, product_ids: Iterable[int], today: date
                  ) -> dict[int, ProductDocument | None]:
    """Documents of the given products; None for a product that must not be found (gone, draft, or with no
    current or coming certificate of 3★ or more)."""
    ids = sorted(set(product_ids))
    result: dict[int, ProductDocument | None] = dict.fromkeys(ids)
    if not ids:
        return result
    certificates: dict[int, list[tuple]] = {}
    rows = connection.execute(
        sa.select(Certificate.product_id, Certificate.stars, Certificate.decision_date, Certificate.valid_until,
                  Certificate.withdrawn_on, Certificate.superseded_on)
        .where(Certificate.product_id.in_(ids), Certificate.stars >= MIN_CERTIFIED_STARS,
               Certificate.valid_until >= today))
    for product_id, *certificate in rows:
        certificates.setdefault(product_id, []).append(tuple(certificate))
    rows = connection.execute(
        sa.select(Product.id, Product.name, Product.description, Product.group_code, Product.subgroup_code,
                  Product.price_vnd, Product.published_at, Producer.name, Producer.slug, Producer.former_district)
        .join(Producer, Producer.id == Product.producer_id)
        .where(Product.id.in_(ids), Product.status == ProductStatus.PUBLISHED))
    for (product_id, name, description, group_code, subgroup_code, price, published_at, maker, maker_slug,
         locality) in rows:
        windows = certified_windows(certificates.get(product_id, ()), today)
        if not windows:
            continue
        result[product_id] = ProductDocument(
            id=product_id, name=name, maker=maker,
            body=" ".join(filter(None, [(description or "")[:DESCRIPTION_CHARS], *_group_words(group_code,
                                                                                               subgroup_code),
                                        _locality_words(locality)])),
            group=group_code, locality=locality or "", producer=maker_slug, price=price,
            published=(published_at - EPOCH) // timedelta(microseconds=1) if published_at else 0,
            windows=windows)
    return result


def iter_product_batches(connection: sa.Connection, today: date, batch_size: int = 1000
                         ) -> Iterator[tuple[int, list[ProductDocument]]]:
    """For a full rebuild: (products looked at, their documents) per batch of published products."""
    ids = published_product_ids(connection)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        documents = load_products(connection, chunk, today)
        yield len(chunk), [doc for doc in documents.values() if doc is not None]


def load_producers(connection: sa.Connection, producer_ids: Iterable[int] | None
                   ) -> dict[int, ProducerDocument | None]:
    """Every producer can be found by name (its page lists its products); None for a deleted one.
    `producer_ids=None` loads them all."""
    query = sa.select(Producer.id, Producer.name, Producer.former_district, Producer.ward_code,
                      Producer.story_md)
    result: dict[int, ProducerDocument | None] = {}
    if producer_ids is not None:
        ids = sorted(set(producer_ids))
        if not ids:
            return result
        result = dict.fromkeys(ids)
        query = query.where(Producer.id.in_(ids))
    for producer_id, name, locality, ward_code, story in connection.execute(query):
        result[producer_id] = ProducerDocument(
            id=producer_id, name=name,
            body=" ".join(filter(None, [_locality_words(locality), ward_name(ward_code),
                                        (story or "")[:STORY_CHARS]])))
    return result


def _group_words(group_code: str, subgroup_code: str | None) -> list[str]:
    """Both languages: the site is bilingual, so "coffee" finds the coffee products too."""
    words = []
    for code, table in ((subgroup_code, SUBGROUPS), (group_code, GROUPS)):
        group = table.get(code or "")
        if group:
            words += [group.vi, group.en]
    return words


def _locality_words(key: str | None) -> str:
    label = FORMER_DISTRICTS.get(key or "", "")
    # "H. Xuân Lộc" -> "Xuân Lộc": the abbreviation of the kind of unit is not worth a search term.
    return label.split(". ", 1)[-1]
