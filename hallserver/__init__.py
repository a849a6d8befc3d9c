"""hallserver: the reference platform server for the counter client.

It implements the wire contract in :mod:`hallclient.wire` with FastAPI and
SQLAlchemy 2. A province's own platform can replace it behind the same contract.
"""

__version__ = "0.1.0"
