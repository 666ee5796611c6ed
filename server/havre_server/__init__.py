"""Havre Ensemble central server: accounts, devices, sync (push/pull) and administration.

FastAPI on uvicorn, SQLAlchemy Core on SQLite (default) or PostgreSQL (psycopg 3). It shares
its protocol types with the desktop (``havre_common.protocol``) and imports nothing
from the desktop's UI.
"""

from havre_common import __version__

SERVER_VERSION = __version__
