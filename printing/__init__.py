"""Printed documents as PDF bytes (reportlab): receipt, notices, approval, pick-up slip.

No Qt here: ui previews, prints or saves the bytes (QtPdf / QPrinter), archives
them with their SHA-256 and audits reprints. ``printing.fonts.warm_up()`` is
meant to run once at start-up off the GUI thread, since the CJK font takes a
noticeable time to load.
"""
