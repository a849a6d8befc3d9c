"""QR code modules for text, without Qt: the server prints and writes them, the admin's window draws them.

Both sides use this one encoder (reportlab's, already a dependency of the printing
package), so the code a clerk scans from the admin's screen is the code the server
would have printed for the same URI.
"""

from __future__ import annotations


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code's modules, row by row (True: dark), error correction level M, no quiet zone."""
    from reportlab.graphics.barcode import qrencoder

    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    n = qr.getModuleCount()
    return [[bool(qr.isDark(r, c)) for c in range(n)] for r in range(n)]
