"""Alembic's environment and the server's schema history (``versions/``)."""
