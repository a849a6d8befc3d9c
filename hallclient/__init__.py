"""hallclient: the Qt-free core of the counter client (政务服务大厅窗口端)."""

__version__ = "0.1.0"
