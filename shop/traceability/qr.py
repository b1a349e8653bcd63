"""QR codes of lot links (segno). Error correction M: a label may get scuffed on the shelf."""
import io

import segno

BORDER = 4  # the quiet zone the QR specification asks for, in modules


def make_qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    make_qr(url).save(buffer, kind="svg", scale=scale, border=BORDER, xmldecl=False, svgns=True,
                      title=url, unit="px")
    return buffer.getvalue()


def qr_png(url: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    make_qr(url).save(buffer, kind="png", scale=scale, border=BORDER)
    return buffer.getvalue()

