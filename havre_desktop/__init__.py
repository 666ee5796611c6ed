"""Havre Ensemble Desktop: offline-first tool for the City of Le Havre's social services."""

__version__ = "0.1.0"
APP_NAME = "Havre Ensemble"
KEYRING_SERVICE = "havre-desktop"
