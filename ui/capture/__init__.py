"""Capturing paper materials at the counter (document camera or files)."""
