"""Translations: every UI string reaches Vietnamese readers translated, with its placeholders intact; the site
is Vietnamese by default and English after the language switch."""
import os
import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "shop" / "translations"
VI_PO = TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
# The extraction the Makefile and the README document. `_macros` starts with an underscore, which pybabel skips
# unless --ignore-dirs is given.
EXTRACT_ARGS = ["-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "--ignore-dirs=.* __pycache__"]





def _read(path: Path):
    with path.open("rb") as po_file:
        return read_po(po_file)


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory):
    """The messages the code and templates use right now, extracted the documented way."""
    output = tmp_path_factory.mktemp("i18n") / "messages.pot"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        CommandLineInterface().run(["pybabel", "-q", "extract", *EXTRACT_ARGS, "-o", str(output), "."])
    finally:
        os.chdir(cwd)
    return _read(output)


@pytest.fixture(scope="module")
def vietnamese():
    return _read(VI_PO)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _ids(message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def test_extraction_sees_python_templates_and_macros(fresh_template):
    """Guards the extraction itself: a message from each kind of source is found."""
    ids = {_ids(m)[0] for m in fresh_template if m.id}
    assert "Wrong email or password." in ids            # shop/accounts/services.py (lazy_gettext)
    assert "%(n)s-star OCOP product" in ids             # shop/web.py (gettext)
    assert "Skip to main content" in ids                # templates/layouts/base.html
    assert "Provincial level" in ids                    # templates/_macros/labels.html
    assert "%(num)d certified product" in ids           # ngettext in a template
    assert len(ids) > 200


def test_every_message_in_use_has_a_vietnamese_translation(fresh_template, vietnamese):
    untranslated = []
    for message in fresh_template:
        if not message.id:
            continue
        translated = vietnamese.get(message.id)
        if translated is None or "fuzzy" in translated.flags or not all(s.strip() for s in _strings(translated)):
            untranslated.append(_ids(message)[0])
    assert not untranslated, (
        f"{len(untranslated)} messages lack a Vietnamese translation (re-run the extraction and `pybabel update`, "
        f"then translate): {untranslated[:15]}")


def test_the_vietnamese_catalogue_is_not_marked_fuzzy(vietnamese):
    # pybabel compile silently skips a catalogue whose header is fuzzy: the site would fall back to English.
    assert not vietnamese.fuzzy
    assert [m.id for m in vietnamese if m.id and "fuzzy" in m.flags] == []


def test_translations_keep_the_placeholders_of_the_original(vietnamese):
    wrong = []
    for message in vietnamese:
        if not message.id:
            continue
        expected = set(PLACEHOLDER.findall(_ids(message)[-1]))
        for text in _strings(message):
            if text and set(PLACEHOLDER.findall(text)) != expected:
                wrong.append((_ids(message)[0], text))
    assert not wrong, wrong
    # Babel's own checker catches broken format strings (a lone "%", mixed positional and named arguments).
    problems = [(m.id, [str(e) for e in errors]) for m, errors in vietnamese.check()]
    assert not problems, problems


def test_translation_files_are_unicode_nfc():
    files = [VI_PO, *TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"), TRANSLATIONS / "messages.pot"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert unicodedata.is_normalized("NFC", text), f"{path} has decomposed (NFD) Vietnamese text"


def test_the_vietnamese_catalogue_is_really_vietnamese(vietnamese):
    """A catalogue filled with copies of the English would pass the checks above; real Vietnamese has
    diacritics in most messages."""
    texts = [t for m in vietnamese if m.id for t in _strings(m) if t]
    with_diacritics = [t for t in texts if unicodedata.normalize("NFD", t) != t]
    assert len(with_diacritics) / len(texts) > 0.8
    assert vietnamese.get("The OCOP certification of this product is no longer valid.").string == \
        "Chứng nhận OCOP của sản phẩm này không còn hiệu lực."


def test_home_page_is_vietnamese_by_default_and_english_after_the_switch(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Sản phẩm OCOP Đồng Nai" in page and "Chuyển đến nội dung chính" in page
    assert "Skip to main content" not in page

    response = client.get("/lang/en?next=/products")
    assert response.status_code == 302 and response.headers["Location"] == "/products"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "OCOP products of Đồng Nai" in page and "Skip to main content" in page
    assert "Chuyển đến nội dung chính" not in page

    client.get("/lang/vi")
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_an_unknown_language_keeps_the_current_one(client):
    client.get("/lang/fr?next=/")
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Chuyển đến nội dung chính" in page


def test_the_language_links_return_to_the_current_page(client):
    page = client.get("/products?group=1").get_data(as_text=True)
    assert 'href="/lang/en?next=/products?group%3D1"' in page
