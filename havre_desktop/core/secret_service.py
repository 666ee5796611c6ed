"""Reading the database key from the Secret Service (GNOME Keyring, KWallet…) at start.

The `keyring` package stores the key there (backend ``keyring.backends.SecretService``)
and stays the way the key is written, deleted, and read on other platforms. But importing
it costs as much as starting Qt (keyring, jaraco, importlib_metadata, secretstorage,
cryptography: ~90 ms of a ~0.4 s start), only to send a handful of D-Bus messages. Here
those messages are sent with jeepney, the D-Bus library keyring itself uses on Linux:

1. ``OpenSession("plain")``: the secret comes back as is over the user's own session bus
   (a local socket of this user), as with secretstorage when the service offers no
   encryption. The key is in this process's memory a moment later anyway.
2. ``SearchItems`` in the *default* collection (``aliases/default``), with the
   attributes keyring writes (``service``, ``username``): the same search as keyring's
   ``get_password``, so the same item is found, or none.
3. ``GetSecret`` on the first item found, then the session is closed.

Nothing is ever written here and nothing is unlocked: when the collection is locked,
absent, or the service does not answer, the result says so (`Lookup.status`) and the
caller goes back to the `keyring` package, which asks the user to unlock, creates the
collection, or looks for another backend exactly as before.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("havre.core.secret_service")

BACKEND_NAME = "keyring.backends.SecretService.Keyring"  # as keys.describe_backend names it
BUS_NAME = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
SERVICE_IFACE = "org.freedesktop.Secret.Service"
COLLECTION_IFACE = "org.freedesktop.Secret.Collection"
ITEM_IFACE = "org.freedesktop.Secret.Item"
SESSION_IFACE = "org.freedesktop.Secret.Session"
# Long enough for a service started on demand by D-Bus activation; what keyring would
# wait for is no shorter (it has no limit at all).
TIMEOUT_S = 25.0


class Status(enum.Enum):
    FOUND = "found"
    NOT_FOUND = "not-found"  # the default collection is open and holds no such item
    LOCKED = "locked"  # the collection (or the item) is locked: unlocking asks the user
    NO_COLLECTION = "no-collection"  # no default collection (keyring would create one)
    UNAVAILABLE = "unavailable"  # no session bus, no Secret Service, or an error


MESSAGES = {
    Status.NOT_FOUND: "La clé de ce profil n'est pas dans le trousseau par défaut du système.",
    Status.LOCKED: "Le trousseau du système est verrouillé.",
    Status.NO_COLLECTION: "Le trousseau du système n'a pas de trousseau par défaut.",
    Status.UNAVAILABLE: "Le service de secrets du système (trousseau) ne répond pas.",
}


@dataclass(frozen=True)
class Lookup:
    status: Status
    secret: bytes | None = None
    detail: str = ""  # the D-Bus error name or exception type, for the log (no secret)

    @property
    def message(self) -> str:
        """What happened, in French, for the user (empty when the secret was found)."""
        return MESSAGES.get(self.status, "")


def read_secret(
    attributes: dict[str, str],
    *,
    collection: str = DEFAULT_COLLECTION,
    address: str = "SESSION",
    timeout: float = TIMEOUT_S,
) -> Lookup:
    """The secret of the first item of `collection` whose attributes match, read over
    D-Bus without unlocking or creating anything (see the module's docstring)."""
    try:
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:  # not on Linux: the keyring package does the work
        return Lookup(Status.UNAVAILABLE, detail="jeepney absent")
    try:
        connection = open_dbus_connection(bus=address)
    except Exception as exc:  # no session bus (no desktop session, a service account…)
        return Lookup(Status.UNAVAILABLE, detail=type(exc).__name__)
    try:
        return _read(connection, attributes, collection, timeout)
    except Exception as exc:  # a broken reply, a timeout: let keyring try
        return Lookup(Status.UNAVAILABLE, detail=type(exc).__name__)
    finally:
        connection.close()


class _Error(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _read(connection: Any, attributes: dict[str, str], collection: str, timeout: float) -> Lookup:
    from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call
    from jeepney.wrappers import Properties

    def call(message: Any) -> tuple[Any, ...]:
        reply = connection.send_and_get_reply(message, timeout=timeout)
        if reply.header.message_type == MessageType.error:
            raise _Error(str(reply.header.fields.get(HeaderFields.error_name, "")))
        body: tuple[Any, ...] = reply.body
        return body

    service = DBusAddress(SERVICE_PATH, bus_name=BUS_NAME, interface=SERVICE_IFACE)
    folder = DBusAddress(collection, bus_name=BUS_NAME, interface=COLLECTION_IFACE)
    try:
        ((_, locked),) = call(Properties(folder).get("Locked"))
    except _Error as exc:
        if exc.name in (
            "org.freedesktop.Secret.Error.NoSuchObject",
            "org.freedesktop.DBus.Error.UnknownObject",
            "org.freedesktop.DBus.Error.UnknownMethod",
        ):
            return Lookup(Status.NO_COLLECTION, detail=exc.name)
        return Lookup(Status.UNAVAILABLE, detail=exc.name)  # e.g. ServiceUnknown
    if locked:
        return Lookup(Status.LOCKED, detail="collection")
    try:
        (items,) = call(new_method_call(folder, "SearchItems", "a{ss}", (attributes,)))
        if not items:
            return Lookup(Status.NOT_FOUND)
        _, session = call(new_method_call(service, "OpenSession", "sv", ("plain", ("s", ""))))
        try:
            item = DBusAddress(items[0], bus_name=BUS_NAME, interface=ITEM_IFACE)
            ((_, _parameters, value, _content_type),) = call(
                new_method_call(item, "GetSecret", "o", (session,))
            )
        finally:
            closing = DBusAddress(session, bus_name=BUS_NAME, interface=SESSION_IFACE)
            connection.send(new_method_call(closing, "Close"))  # no reply awaited
    except _Error as exc:
        if exc.name == "org.freedesktop.Secret.Error.IsLocked":
            return Lookup(Status.LOCKED, detail="item")
        return Lookup(Status.UNAVAILABLE, detail=exc.name)
    return Lookup(Status.FOUND, bytes(value))


class SecretServiceKeyring:
    """The Secret Service as a keyring backend (`keys.KeyringLike`) that reads with
    `read_secret` and hands everything else to keyring's own SecretService backend,
    loaded the first time it is needed (writing, deleting, unlocking a locked keyring).

    `describe_backend` names it like keyring's backend: profile.json keeps the same name
    whichever of the two read the key.
    """

    backend_name = BACKEND_NAME

    def __init__(self) -> None:
        self._keyring: Any = None
        self.last_lookup: Lookup | None = None

    def keyring_backend(self) -> Any:
        """keyring's SecretService backend (imports keyring; raises when not viable)."""
        if self._keyring is None:
            from keyring.core import load_keyring

            self._keyring = load_keyring(BACKEND_NAME)
        return self._keyring

    def get_password(self, service: str, username: str) -> str | None:
        lookup = read_secret({"username": username, "service": service})
        self.last_lookup = lookup
        if lookup.status is Status.FOUND:
            assert lookup.secret is not None
            return lookup.secret.decode("utf-8")
        if lookup.status is Status.NOT_FOUND:
            return None  # keyring's search of the same collection finds nothing either
        log.info("secret service read: %s (%s); keyring takes over", lookup.status, lookup.detail)
        value: str | None = self.keyring_backend().get_password(service, username)
        return value

    def set_password(self, service: str, username: str, password: str) -> None:
        self.keyring_backend().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self.keyring_backend().delete_password(service, username)
