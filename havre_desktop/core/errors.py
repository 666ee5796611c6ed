"""Errors the user must understand (environment) versus bugs.

`HavreError` subclasses carry a French message meant for the person at the
screen; anything else escaping the core is a bug and is logged with a report.
"""

from __future__ import annotations


class HavreError(Exception):
    """An environment problem with a French message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreError(HavreError):
    """The local database cannot be used as asked."""


class NotADatabaseError(StoreError):
    """The file is not a Havre Ensemble database, or the key does not open it."""


class WrongKeyError(NotADatabaseError):
    """The key does not open this encrypted database."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer version of the application."""


class ProfileError(HavreError):
    """The profile folder cannot be used as asked."""


class KeyringUnavailableError(HavreError):
    """No usable OS keyring backend: the passphrase fallback is needed."""


class KeyMissingError(ProfileError):
    """The keyring no longer holds the key of an existing database."""


class WrongPassphraseError(ProfileError):
    """The passphrase (or recovery passphrase) does not unlock the profile."""


class ValidationError(HavreError):
    """Input refused, with one French message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


class NotFoundError(HavreError):
    """The record asked for does not exist (or was removed)."""


class PermissionDeniedError(HavreError):
    """The agent's role does not allow this action."""
