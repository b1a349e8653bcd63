"""The storefront pages, rendered with data, as a visitor reads them (Vietnamese by default)."""
import re
from datetime import date, time, timedelta

import pytest
from bs4 import BeautifulSoup

from shop.certification.services import withdraw_certificate
from shop.core.clock import today
from shop.extensions import db
from shop.producers.services import add_document
from shop.sales_points.services import carry_product
from tests.factories import make_certificate, make_point, make_producer, make_product

NBSP = "\u00a0"


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(node) -> str:
    return " ".join(node.get_text(" ").split())


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.fixture
def catalogue(app):
    """Two producers, certified products in two groups, one expired, one withdrawn, one alcoholic; two points."""
    day = today()
    with app.app_context():
        coffee_coop = make_producer("HTX Cà phê Xuân Lộc", former_district="xuan-loc", street="Ấp 3",
                                    story_md="Thành lập năm **2012**.\n\n<script>alert('x')</script>\n\n"
                                             "[bấm vào đây](javascript:alert(1))")
        honey_firm = make_producer("Công ty Mật ong Hương Rừng", legal_form="enterprise", former_district="dinh-quan")
        add_document(coffee_coop, kind="food_safety", number="125/ATTP", issued_on=day - timedelta(days=900),
                     valid_until=day - timedelta(days=1))
        add_document(coffee_coop, kind="business_registration", number="3603123456")

        coffee = make_product(coffee_coop, "Cà phê Robusta rang xay", stars=None, price_vnd=150_000,
                              unit="Gói 500 g", gtin="8938505974194", story_md="Rang **mộc**, không tẩm.")
        decided = day - timedelta(days=40)
        make_certificate(coffee, stars=4, level="province", decision_no="1234/QĐ-UBND", decision_date=decided,
                         valid_until=date(decided.year + 3, decided.month, 1))
        honey = make_product(honey_firm, "Mật ong hoa cà phê", stars=5, price_vnd=320_000, group_code="1",
                             subgroup_code="1.2b")
        wine = make_product(coffee_coop, "Rượu cà phê", stars=3, price_vnd=250_000, group_code="2",
                            subgroup_code="2.1", is_alcohol=True)

        expired = make_product(honey_firm, "Mứt chuối Định Quán", stars=None, price_vnd=60_000)
        old = make_certificate(expired, stars=3, decision_no="88/QĐ-UBND", decision_date=day - timedelta(days=1200))
        withdrawn = make_product(coffee_coop, "Bánh tráng phơi sương", stars=None, price_vnd=45_000)
        revoked = make_certificate(withdrawn, stars=4, decision_no="412/QĐ-UBND")
        withdraw_certificate(revoked, decision_no="77/QĐ-UBND", reason="Không duy trì điều kiện an toàn thực phẩm.")

        centre = make_point("DN-TT-01", name="Trung tâm OCOP tỉnh Đồng Nai", tier="centre", street="1 Nguyễn Ái Quốc",
                            opens_at=time(7, 30), closes_at=time(17, 0), phone="0251 3822 111")
        make_point("DN-XL-01", name="Điểm bán OCOP Xuân Lộc", former_district="xuan-loc", status="closed")
        for product in (coffee, honey, wine, expired):
            carry_product(centre, product)
        db.session.commit()
        return {
            "coffee": coffee.slug, "honey": honey.slug, "wine": wine.slug, "expired": expired.slug,
            "withdrawn": withdrawn.slug, "coffee_coop": coffee_coop.slug, "honey_firm": honey_firm.slug,
            "decided": decided, "valid_until": date(decided.year + 3, decided.month, 1),
            "expired_until": old.valid_until, "withdrawn_on": day,
        }


# --- home -------------------------------------------------------------------------------------------------

def test_home_shows_certified_products_groups_producers_and_points(client, catalogue):
    page = soup(client.get("/"))
    main = page.find("main")
    names = [text_of(a) for a in main.select(".product-card__name a")]
    assert set(names) == {"Cà phê Robusta rang xay", "Mật ong hoa cà phê", "Rượu cà phê"}
    assert names[0] == "Mật ong hoa cà phê", "featured products come by stars"
    groups = {text_of(a.select_one(".group-tile__label")): (a["href"], text_of(a.select_one(".group-tile__count")))
              for a in main.select("a.group-tile")}
    assert len(groups) == 6
    assert groups["Thực phẩm"] == ("/products?group=1", "2 sản phẩm")
    assert groups["Đồ uống"] == ("/products?group=2", "1 sản phẩm")
    assert main.find("a", href=f"/producers/{catalogue['coffee_coop']}")
    assert main.find("a", href="/points/DN-TT-01")
    assert not main.find("a", href="/points/DN-XL-01"), "a closed point is not a place to buy"
    assert "Mứt chuối" not in text_of(main) and "Bánh tráng" not in text_of(main)


def test_layout_has_navigation_language_switch_and_demo_notice(client, catalogue):
    page = soup(client.get("/producers"))
    nav = {text_of(a): a["href"] for a in page.select("nav.main-nav a")}
    assert nav == {"Sản phẩm": "/products", "Nhà sản xuất": "/producers", "Điểm bán": "/points"}
    assert page.select_one('nav.main-nav a[aria-current="page"]')["href"] == "/producers"
    langs = {a["lang"]: a["href"] for a in page.select("nav.lang-switch a")}
    assert langs == {"vi": "/lang/vi?next=/producers", "en": "/lang/en?next=/producers"}
    search = page.select_one('form[role="search"]')
    assert search["action"] == "/products" and search["method"] == "get"
    assert "minh họa" in text_of(page.find("footer"))
    assert page.find("a", href="/account/login?next=/producers")


def test_logged_in_visitors_see_their_account_and_a_logout_form(client, app):
    from tests.conftest import login
    from tests.factories import make_user

    with app.app_context():
        make_user(email="khach@example.vn")
        db.session.commit()
    login(client, "khach@example.vn")
    page = soup(client.get("/"))
    header = page.find("header")
    assert header.find("a", href="/account/")
    logout = header.find("form", action="/account/logout")
    assert logout["method"] == "post" and logout.find("input", attrs={"name": "csrf_token"})["value"]
    assert not header.find("a", href=re.compile("^/account/login"))
    assert "Chào mừng Nguyễn Văn A quay lại." in text_of(page.select_one(".flash--success"))


# --- listing ----------------------------------------------------------------------------------------------

def facet_counts(page, facet: str) -> dict[str, int]:
    section = page.find("h3", id=f"facet-{facet}").find_parent("section")
    return {text_of(option.select_one(".facet__label")): int(option.select_one(".facet__count").contents[0])
            for option in section.select(".facet__option")}


def test_listing_shows_only_certified_products_with_facet_counts(client, catalogue):
    page = soup(client.get("/products"))
    cards = page.select("main .product-card")
    assert {text_of(c.select_one(".product-card__name")) for c in cards} == {
        "Cà phê Robusta rang xay", "Mật ong hoa cà phê", "Rượu cà phê"}
    assert "3 sản phẩm được chứng nhận" in text_of(page.select_one(".listing__count"))
    assert facet_counts(page, "stars") == {"Từ 3 sao trở lên": 3, "Từ 4 sao trở lên": 2, "5 sao": 1}
    groups = facet_counts(page, "group")
    assert groups["Thực phẩm"] == 2 and groups["Đồ uống"] == 1 and groups["Thủ công mỹ nghệ"] == 0
    assert facet_counts(page, "locality") == {"H. Xuân Lộc": 2, "H. Định Quán": 1}
    assert facet_counts(page, "producer") == {"HTX Cà phê Xuân Lộc": 2, "Công ty Mật ong Hương Rừng": 1}
    # (text_of folds the no-break spaces of the amounts into plain spaces)
    assert facet_counts(page, "price") == {"0 ₫ – 100.000 ₫": 0, "100.000 ₫ – 200.000 ₫": 1,
                                           "200.000 ₫ – 500.000 ₫": 2, "≥ 500.000 ₫": 0}

    card = next(c for c in cards if "Robusta" in text_of(c))
    assert f"150.000{NBSP}₫" in card.get_text()
    assert card.select_one('.ocop-badge[role="img"]')["aria-label"] == "Sản phẩm OCOP 4 sao"
    assert "HTX Cà phê Xuân Lộc" in text_of(card)


def test_facets_are_links_that_filter_and_pagination_keeps_the_filters(client, catalogue):
    page = soup(client.get("/products"))
    four_stars = page.find("h3", id="facet-stars").find_parent("section").find("a", href=re.compile("stars=4"))
    page = soup(client.get(four_stars["href"]))
    assert {text_of(c.select_one(".product-card__name")) for c in page.select("main .product-card")} == {
        "Cà phê Robusta rang xay", "Mật ong hoa cà phê"}
    selected = page.select_one('.facet__option[aria-current="true"]')
    assert "Từ 4 sao trở lên" in text_of(selected) and "stars" not in selected["href"], "choosing again removes it"

    page = soup(client.get("/products?group=1&per_page=1&sort=price_asc"))
    assert [text_of(c.select_one(".product-card__name")) for c in page.select("main .product-card")] == [
        "Cà phê Robusta rang xay"]
    next_link = page.select_one('.pagination a[rel="next"]')["href"]
    assert "group=1" in next_link and "page=2" in next_link and "sort=price_asc" in next_link
    page = soup(client.get(next_link))
    assert [text_of(c.select_one(".product-card__name")) for c in page.select("main .product-card")] == [
        "Mật ong hoa cà phê"]
    assert page.select_one('.pagination [aria-current="page"]').get_text(strip=True).endswith("2")
    # The sort form carries the filters (without JavaScript it is a plain GET form with a button).
    sort_form = page.select_one("form.sort-form")
    hidden = {i["name"]: i["value"] for i in sort_form.select('input[type="hidden"]')}
    assert hidden == {"group": "1"}
    assert sort_form.select_one('option[selected]')["value"] == "price_asc"


def test_price_range_filters_and_shows_removable_chips(client, catalogue):
    page = soup(client.get("/products?min_price=200000&max_price=300000"))
    assert [text_of(c.select_one(".product-card__name")) for c in page.select("main .product-card")] == [
        "Rượu cà phê"]
    chips = {text_of(a): a["href"] for a in page.select(".chips a.chip")}
    assert chips["Từ 200.000 ₫ × (bỏ)"] == "/products?max_price=300000"
    assert page.select_one("#min-price")["value"] == "200000"


@pytest.mark.parametrize("query, notice", [
    ("stars=abc", "“abc” không phải là giá trị hợp lệ"),
    ("group=99", "Không có nhóm sản phẩm “99”"),
    ("sort=cheapest", "Không có cách sắp xếp “cheapest”"),
    ("min_price=200000&max_price=100", "Giá cao nhất đang thấp hơn giá thấp nhất"),
    ("locality=<script>", "Không có địa phương “&lt;script&gt;”"),
])
def test_a_bad_filter_value_is_ignored_with_a_notice(client, catalogue, query, notice):
    response = client.get(f"/products?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = BeautifulSoup(html, "html.parser")
    flash = page.select_one('.flash--warning[role="alert"]')
    assert flash is not None and notice in flash.decode_contents()
    assert "<script>" not in html.split("<main", 1)[0].split("</head>", 1)[1]
    assert len(page.select("main .product-card")) >= 1, "the other filters (or none) still apply"


def test_a_search_that_matches_nothing_shows_a_friendly_empty_state(client, catalogue):
    page = soup(client.get("/products?min_price=900000000"))
    empty = page.select_one(".empty-state")
    assert "Không có sản phẩm được chứng nhận nào phù hợp." in text_of(empty)
    assert empty.find("a", href="/products")
    assert not page.select(".product-card")


def test_a_page_past_the_end_links_back_to_the_first(client, catalogue):
    page = soup(client.get("/products?page=40"))
    assert not page.select(".product-card")
    assert page.select_one(".empty-state a")["href"] == "/products?page=1"


# --- product page -----------------------------------------------------------------------------------------

def test_product_page_shows_the_certificate_behind_the_stars(client, catalogue):
    page = soup(client.get(f"/products/{catalogue['coffee']}"))
    main = page.find("main")
    assert text_of(main.find("h1")) == "Cà phê Robusta rang xay"
    badges = main.select(".ocop-badge")
    assert len(badges) == 1 and badges[0]["aria-label"] == "Sản phẩm OCOP 4 sao"
    facts = {text_of(div.dt): text_of(div.dd) for div in main.select(".certificate dl > div")}
    assert facts["Số quyết định"] == "1234/QĐ-UBND"
    assert facts["Cấp công nhận"] == "Cấp tỉnh"
    assert facts["Ngày quyết định"] == dmy(catalogue["decided"])
    assert facts["Hiệu lực đến"] == dmy(catalogue["valid_until"])
    assert main.select_one(".product__price .price").get_text() == f"150.000{NBSP}₫"
    assert "Gói 500 g" in text_of(main.select_one(".product__price"))
    assert "8938505974194" in text_of(main)
    assert "Thực phẩm — Sản phẩm từ cà phê, ca cao" in text_of(main)
    assert "<strong>mộc</strong>" in str(main), "the product story is Markdown"
    assert "Sản phẩm có cồn" not in text_of(main)


def test_product_page_lists_where_to_buy_with_addresses(client, catalogue):
    page = soup(client.get(f"/products/{catalogue['coffee']}"))
    where = page.find("h2", string="Nơi bán").find_parent("section")
    points = where.select(".point-list__item")
    assert len(points) == 1, "only open points that carry the product"
    assert points[0].find("a", href="/points/DN-TT-01")
    # Street, then the 2025 commune/ward and province (shop.core.admin_units).
    assert text_of(points[0].select_one(".point-list__address")) == "1 Nguyễn Ái Quốc, Xã Phú Hòa, Đồng Nai"
    assert "Mở cửa 07:30–17:00" in text_of(points[0])
    assert points[0].find("a", href="tel:02513822111")


def test_product_page_in_english_translates_labels_not_formats(client, catalogue):
    client.get("/lang/en")
    page = soup(client.get(f"/products/{catalogue['coffee']}"))
    facts = {text_of(div.dt): text_of(div.dd) for div in page.select(".certificate dl > div")}
    assert facts["Issued by"] == "Provincial level"
    assert facts["Valid until"] == dmy(catalogue["valid_until"])
    assert page.select_one(".ocop-badge")["aria-label"] == "4-star OCOP product"
    assert page.select_one(".product__price .price").get_text() == f"150.000{NBSP}₫"
    assert "Food — Coffee and cocoa products" in text_of(page.find("main"))


def test_an_alcoholic_product_carries_the_legal_age_notice(client, catalogue):
    page = soup(client.get(f"/products/{catalogue['wine']}"))
    notice = page.select_one(".notice--alcohol")
    assert "Sản phẩm có cồn — chỉ bán cho người từ 18 tuổi trở lên" in text_of(notice)


def test_central_level_is_named_on_a_five_star_product(client, catalogue):
    page = soup(client.get(f"/products/{catalogue['honey']}"))
    facts = {text_of(div.dt): text_of(div.dd) for div in page.select(".certificate dl > div")}
    assert facts["Cấp công nhận"] == "Cấp trung ương (quốc gia)"
    assert page.select_one(".ocop-badge")["aria-label"] == "Sản phẩm OCOP 5 sao"


@pytest.mark.parametrize("which", ["expired", "withdrawn"])
def test_a_lapsed_product_is_not_listed_anywhere_and_its_page_says_so(client, catalogue, which):
    slug = catalogue[which]
    name = {"expired": "Mứt chuối Định Quán", "withdrawn": "Bánh tráng phơi sương"}[which]
    producer = {"expired": "honey_firm", "withdrawn": "coffee_coop"}[which]
    for url in ("/", "/products", f"/producers/{catalogue[producer]}", "/points/DN-TT-01"):
        assert name not in client.get(url).get_data(as_text=True), url

    response = client.get(f"/products/{slug}")
    assert response.status_code == 200, "old labels get scanned: the page stays reachable"
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    main = page.find("main")
    assert text_of(main.find("h1")) == name
    notice = main.select_one(".notice--warning")
    assert "Chứng nhận OCOP của sản phẩm này không còn hiệu lực." in text_of(notice)
    if which == "expired":
        assert "88/QĐ-UBND" in text_of(notice) and dmy(catalogue["expired_until"]) in text_of(notice)
    else:
        assert "412/QĐ-UBND" in text_of(notice) and "77/QĐ-UBND" in text_of(notice)
        assert dmy(catalogue["withdrawn_on"]) in text_of(notice)
        assert "Không duy trì điều kiện an toàn thực phẩm." in text_of(notice)
    assert not page.select(".ocop-badge") and "★" not in page.get_text()
    assert not main.select(".certificate") and not main.find("h2", string="Nơi bán")


def test_an_unknown_or_draft_product_is_a_vietnamese_404_page(client, app):
    with app.app_context():
        draft = make_product(name="Sản phẩm nháp", publish=False).slug
        db.session.commit()
    for url in ("/products/khong-co-san-pham-nay", f"/products/{draft}"):
        response = client.get(url)
        assert response.status_code == 404
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert page.html["lang"] == "vi"
        assert text_of(page.find("h1")) == "Không tìm thấy trang"
        assert "Chúng tôi không tìm thấy trang này." in text_of(page.find("main"))
        assert page.find("main").find("a", href="/")


# --- producers and points ---------------------------------------------------------------------------------

def test_producer_page_shows_profile_documents_and_certified_products(client, catalogue):
    page = soup(client.get(f"/producers/{catalogue['coffee_coop']}"))
    main = page.find("main")
    assert text_of(main.find("h1")) == "HTX Cà phê Xuân Lộc"
    assert "Hợp tác xã · H. Xuân Lộc" in text_of(main.select_one(".profile-head__meta"))
    documents = {text_of(d.select_one(".document__kind")): text_of(d.select_one(".status"))
                 for d in main.select(".document")}
    assert documents == {"Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm": "Hết hiệu lực",
                         "Giấy chứng nhận đăng ký kinh doanh": "Còn hiệu lực"}
    assert {text_of(a) for a in main.select(".product-card__name a")} == {"Cà phê Robusta rang xay", "Rượu cà phê"}
    assert "Ấp 3" in text_of(main)


def test_producer_story_markdown_is_sanitised(client, catalogue):
    html = client.get(f"/producers/{catalogue['coffee_coop']}").get_data(as_text=True)
    page = BeautifulSoup(html, "html.parser")
    story = page.find("h2", string="Câu chuyện của chúng tôi").find_parent("section")
    assert "<strong>2012</strong>" in str(story)
    assert not story.find("script") and not story.find("a", href=re.compile("^javascript", re.IGNORECASE))
    assert "<script>alert" not in html
    assert "javascript:" not in html
    # The same story on the product page's producer card is sanitised too.
    product_html = client.get(f"/products/{catalogue['coffee']}").get_data(as_text=True)
    assert "<script>alert" not in product_html and "javascript:" not in product_html


def test_producer_list_filters_by_legal_form(client, catalogue):
    page = soup(client.get("/producers"))
    assert {text_of(h) for h in page.select(".producer-item__name")} == {
        "HTX Cà phê Xuân Lộc", "Công ty Mật ong Hương Rừng"}
    page = soup(client.get("/producers?legal_form=enterprise"))
    assert [text_of(h) for h in page.select(".producer-item__name")] == ["Công ty Mật ong Hương Rừng"]
    assert text_of(page.select_one('.tabs a[aria-current="page"]')) == "Doanh nghiệp"
    page = soup(client.get("/producers?legal_form=household"))
    assert "Chưa có nhà sản xuất thuộc loại hình này." in text_of(page.find("main"))
    assert len(soup(client.get("/producers?legal_form=bogus")).select(".producer-item")) == 2


def test_point_list_and_point_page(client, catalogue):
    page = soup(client.get("/points"))
    names = [text_of(h) for h in page.select(".point-card__name")]
    assert names == ["Trung tâm OCOP tỉnh Đồng Nai"], "closed points are not listed"
    assert "Trung tâm OCOP cấp tỉnh" in text_of(page.select_one(".point-card"))

    page = soup(client.get("/points/dn-tt-01"))
    main = page.find("main")
    assert text_of(main.find("h1")) == "Trung tâm OCOP tỉnh Đồng Nai"
    assert {text_of(a) for a in main.select(".product-card__name a")} == {
        "Cà phê Robusta rang xay", "Mật ong hoa cà phê", "Rượu cà phê"}, "the expired product is not offered"
    facts = {text_of(div.dt): text_of(div.dd) for div in main.select(".side-card dl > div")}
    assert facts["Giờ mở cửa"] == "07:30–17:00"
    assert "1 Nguyễn Ái Quốc" in facts["Địa chỉ"]
    assert client.get("/points/DN-XL-01").status_code == 404, "a closed point has no page"
    assert client.get("/points/NOPE").status_code == 404


# --- accounts ---------------------------------------------------------------------------------------------

def test_login_page_has_labelled_fields_and_a_csrf_token(client):
    page = soup(client.get("/account/login"))
    form = page.select_one("main form")
    assert form["method"] == "post" and form.find("input", attrs={"name": "csrf_token"})["value"]
    labels = {label["for"]: text_of(label) for label in form.find_all("label")}
    assert labels == {"email": "Email", "password": "Mật khẩu", "remember": "Ghi nhớ đăng nhập"}
    assert form.find("input", id="password")["type"] == "password"


def test_a_failed_registration_shows_errors_tied_to_their_fields(client):
    from tests.conftest import post_form

    response = post_form(client, "/account/register", {"full_name": "Lê Thị B", "email": "b@example.vn",
                                                       "password": "mot-hai-ba-bon", "confirm": "khac-nhau"})
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = page.select_one('.error-summary[role="alert"]')
    assert summary.find("a", href="#confirm")
    confirm = page.find("input", id="confirm")
    assert confirm["aria-invalid"] == "true"
    error = page.find(id=confirm["aria-describedby"])
    assert "Hai mật khẩu không khớp nhau." in text_of(error)
    assert page.find("input", id="full_name")["value"] == "Lê Thị B", "what was typed is kept"
    assert not page.find("input", id="password").get("value"), "passwords are never echoed back"
