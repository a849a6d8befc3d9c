"""ui: the PySide6 front end. app.py composes the core objects and the windows."""
