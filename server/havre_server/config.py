"""The server's configuration: a TOML file, environment variables over it, options over both.

``havre-server --config /etc/havre-server/server.toml …`` (or ``$HAVRE_SERVER_CONFIG``) reads
the file; each of its keys has an environment variable (:data:`OPTIONS`) that wins over the
file, and a command-line option, where there is one, wins over both. The file is read once at
start, checked whole (an unknown section or key, a value of the wrong type: a French message
naming the key and the file), then laid under the environment: the code reads every setting
from the environment, and the worker processes of ``serve --workers N`` inherit it.

docs/server.md lists the keys (a test checks that every one is there).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_ENV = "HAVRE_SERVER_CONFIG"


@dataclass(frozen=True)
class Option:
    section: str
    key: str
    env: str
    kind: type  # str, int, float or bool
    help: str

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


OPTIONS: tuple[Option, ...] = (
    Option("database", "url", "HAVRE_SERVER_DATABASE", str, "URL de la base"),
    Option("database", "data_dir", "HAVRE_SERVER_DATA", str, "dossier de la base SQLite"),
    Option("database", "pool_size", "HAVRE_SERVER_POOL_SIZE", int, "connexions par processus"),
    Option("server", "host", "HAVRE_SERVER_HOST", str, "adresse d'écoute"),
    Option("server", "port", "HAVRE_SERVER_PORT", int, "port d'écoute"),
    Option("server", "workers", "HAVRE_SERVER_WORKERS", int, "processus serveurs"),
    Option("server", "proxy_headers", "HAVRE_SERVER_PROXY_HEADERS", bool, "derrière un proxy"),
    Option(
        "server",
        "forwarded_allow_ips",
        "HAVRE_SERVER_FORWARDED_ALLOW_IPS",
        str,
        "adresses du proxy crues pour X-Forwarded-For",
    ),
    Option("server", "ssl_certfile", "HAVRE_SERVER_SSL_CERTFILE", str, "certificat TLS (PEM)"),
    Option("server", "ssl_keyfile", "HAVRE_SERVER_SSL_KEYFILE", str, "clé du certificat (PEM)"),
    Option(
        "server",
        "min_client_version",
        "HAVRE_SERVER_MIN_CLIENT_VERSION",
        str,
        "version minimale du poste",
    ),
    Option("server", "max_body_bytes", "HAVRE_SERVER_MAX_BODY_BYTES", int, "taille de requête"),
    Option("log", "level", "HAVRE_SERVER_LOG_LEVEL", str, "niveau des journaux"),
    Option("auth", "token_ttl_s", "HAVRE_SERVER_TOKEN_TTL_S", int, "durée d'une session"),
    Option(
        "auth",
        "login_max_failures",
        "HAVRE_SERVER_LOGIN_MAX_FAILURES",
        int,
        "échecs permis par identifiant",
    ),
    Option(
        "auth",
        "login_max_failures_per_address",
        "HAVRE_SERVER_LOGIN_MAX_FAILURES_PER_ADDRESS",
        int,
        "échecs permis par adresse",
    ),
    Option("auth", "login_window_s", "HAVRE_SERVER_LOGIN_WINDOW_S", int, "fenêtre des échecs"),
    Option("auth", "argon2_time_cost", "HAVRE_SERVER_ARGON2_TIME_COST", int, "coût argon2"),
    Option("auth", "argon2_memory_kib", "HAVRE_SERVER_ARGON2_MEMORY_KIB", int, "mémoire argon2"),
    Option(
        "change_log",
        "compact_interval_s",
        "HAVRE_SERVER_COMPACT_INTERVAL_S",
        float,
        "intervalle de compactage du journal",
    ),
    Option(
        "change_log",
        "active_device_days",
        "HAVRE_SERVER_ACTIVE_DEVICE_DAYS",
        int,
        "jours d'activité d'un appareil",
    ),
    Option(
        "retention",
        "months",
        "HAVRE_SERVER_RETENTION_MONTHS",
        int,
        "mois de conservation d'une fiche après le dernier contact",
    ),
    Option(
        "backup",
        "passphrase_file",
        "HAVRE_SERVER_BACKUP_PASSPHRASE_FILE",
        str,
        "fichier de la phrase de passe des sauvegardes",
    ),
    Option(
        "backup", "pg_bindir", "HAVRE_SERVER_PG_BINDIR", str, "dossier de pg_dump et pg_restore"
    ),
)

BY_ENV: dict[str, Option] = {option.env: option for option in OPTIONS}
_TYPE_NAMES = {str: "texte", int: "nombre entier", float: "nombre", bool: "booléen (true/false)"}
_TRUE, _FALSE = {"1", "true", "yes", "on", "oui"}, {"0", "false", "no", "off", "non", ""}


class ConfigError(ValueError):
    """A configuration the server cannot start with (its message is French, for the admin)."""


def read_file(path: Path) -> dict[str, str]:
    """The file's settings as environment values ({variable: text}), checked."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Fichier de configuration introuvable : {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Fichier de configuration illisible : {path} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Fichier de configuration mal formé : {path} : {exc}") from None
    sections = {option.section for option in OPTIONS}
    values: dict[str, str] = {}
    for section, table in data.items():
        if section not in sections:
            known = ", ".join(sorted(sections))
            raise ConfigError(f"Section inconnue [{section}] dans {path} (connues : {known})")
        if not isinstance(table, dict):
            raise ConfigError(f"« {section} » doit être une section [{section}] dans {path}")
        for key, value in table.items():
            option = _find(section, key)
            if option is None:
                known = ", ".join(o.key for o in OPTIONS if o.section == section)
                raise ConfigError(
                    f"Clé inconnue « {section}.{key} » dans {path} (clés de [{section}] : {known})"
                )
            values[option.env] = _from_toml(option, value, path)
    return values


def _find(section: str, key: str) -> Option | None:
    return next((o for o in OPTIONS if o.section == section and o.key == key), None)


def _from_toml(option: Option, value: Any, path: Path) -> str:
    kind = option.kind
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(
            f"« {option.name} » dans {path} : {_TYPE_NAMES[kind]} attendu, reçu {value!r}"
        )
    if kind is bool:
        return "1" if value else "0"
    return str(value)


def check_environment(env: Mapping[str, str]) -> None:
    """Every setting given in the environment (or laid there from the file) is readable."""
    for option in OPTIONS:
        if option.env in env:
            try:
                parse(option, env[option.env])
            except ValueError:
                raise ConfigError(
                    f"Variable d'environnement {option.env} ({option.name}) : "
                    f"{_TYPE_NAMES[option.kind]} attendu, reçu « {env[option.env]} »"
                ) from None


def parse(option: Option, text: str) -> Any:
    if option.kind is bool:
        lowered = text.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ValueError(text)
        return lowered in _TRUE
    if option.kind is int and not text.strip().lstrip("-").isdigit():
        raise ValueError(text)
    return option.kind(text)


def load(path: Path | None, env: MutableMapping[str, str]) -> None:
    """Lay the file's settings under ``env`` (a variable already set wins), then check it."""
    if path is not None:
        for variable, value in read_file(path).items():
            env.setdefault(variable, value)
    check_environment(env)


def setting(env_name: str, default: Any = None, env: Mapping[str, str] | None = None) -> Any:
    """A setting's value from the environment (already checked by :func:`load`), or
    ``default`` when it is not set."""
    source = os.environ if env is None else env
    if env_name not in source:
        return default
    return parse(BY_ENV[env_name], source[env_name])
