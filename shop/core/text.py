"""Vietnamese text helpers: NFC normalisation, diacritic folding, slugs, safe Markdown."""
import re
import unicodedata

import markdown as markdown_lib
import nh3
from markupsafe import Markup
from slugify import slugify as _slugify

_COMBINING = re.compile(r"[\u0300-\u036f]")
_ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote", "h3", "h4", "a", "hr"}


def nfc(text: str | None) -> str | None:
    """Store every piece of Vietnamese text in NFC: input from macOS or some keyboards arrives as NFD."""
    if text is None:
        return None
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Lower-case and strip diacritics: 'Cà phê Đồng Nai' -> 'ca phe dong nai'. Works on NFC or NFD input."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return _COMBINING.sub("", decomposed).replace("đ", "d")


def slugify(text: str) -> str:
    return _slugify(fold(text), max_length=120)


def render_markdown(source: str | None) -> Markup:
    """Markdown written by producers, sanitised to a small safe subset (no scripts, no raw HTML, no images)."""
    if not source:
        return Markup("")
    html = markdown_lib.markdown(source, extensions=["sane_lists"])
    clean = nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer")
    return Markup(clean)
