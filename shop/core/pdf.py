"""PDF documents (fpdf2) with an embedded Unicode font, so Vietnamese prints right on any machine.

The only module that imports fpdf: labels and reports build on `new_document`."""
from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"  # DejaVu Sans has every Vietnamese letter with its tone marks (license in fonts/)


def new_document(orientation: str = "P", title: str = "", author: str = "") -> FPDF:
    """An A4 document in millimetres with the DejaVu family (regular "" and bold "B") registered and selected."""
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_font(FONT, size=10)
    pdf.set_creator("OCOP shop")
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    return pdf


def to_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
