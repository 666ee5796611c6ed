"""The data contract: every synced table and field, described once for the desktop and the server.

Everything that both sides must agree on about the synced data is declared here and derived
elsewhere, never typed again (see ../shared/design/contract.md):

* the server's tables (``havre_server.schema`` builds SQLAlchemy ``Table`` objects from it);
* validation, on both sides (:mod:`havre_common.validation`, French messages with the labels
  below): the desktop refuses to save what the server would refuse;
* the sync field and table lists: what travels, what stays on the device or on the server,
  which tables merge per field, which rows depend on a person (scope, erasure, wipe);
* what a role may read (reception agents: identity, contact details and register status);
* the maximum lengths of the desktop's input fields, and the hypothesis strategies of the tests.

The desktop's SQL migrations stay hand-written; ``tests/test_contract.py`` compares the migrated
local schema and the server's migrated schema with this contract, so drift fails CI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

# -- roles and small enumerations (defined once; French labels) ---------------------------------

SOCIAL_WORKER: Final = "travailleur-social"
RECEPTION: Final = "accueil"
COORDINATOR: Final = "coordinateur"
ADMINISTRATOR: Final = "administrateur"
ROLES: Final = (SOCIAL_WORKER, RECEPTION, COORDINATOR, ADMINISTRATOR)

CARE_ROLES: Final = frozenset({SOCIAL_WORKER, COORDINATOR})
"""Roles that see visits and everything said about a person (never reception agents)."""
PERSON_ROLES: Final = frozenset({SOCIAL_WORKER, COORDINATOR, RECEPTION})
"""Roles that see persons of their territories (reception agents: a projection)."""
CATALOGUE_ROLES: Final = frozenset({COORDINATOR, ADMINISTRATOR})
"""Roles that edit the catalogue and read action evaluations."""
ALL_ROLES: Final = frozenset(ROLES)

ENUMS: Final[MappingProxyType[str, MappingProxyType[str, str]]] = MappingProxyType(
    {
        name: MappingProxyType(values)
        for name, values in {
            "contact_kinds": {"person": "Personne", "organisation": "Organisme"},
            "consent_purposes": {
                "fiche": "Tenue de la fiche",
                "registre": "Registre des personnes vulnérables",
                "partage-partenaires": "Partage avec les partenaires",
            },
            "planned_kinds": {
                "visite": "Visite à domicile",
                "appel": "Appel",
                "suivi": "Suivi",
                "suivi-visite": "Suivi par une visite",
                "suivi-appel": "Suivi par un appel",
                "appel-alerte": "Appel d'alerte",
            },
            "requesters": {
                "personne": "La personne",
                "representant": "Son représentant légal",
                "tiers": "Un tiers",
                "organisme": "Un organisme (liste transmise)",
            },
            "register_statuses": {
                "inscrite": "Inscrite",
                "a-informer": "À informer (inscrite sauf opposition)",
                "opposee": "Opposition de la personne",
                "radiee": "Radiée",
            },
            "register_sources": {
                "saisie": "Demande reçue par la Ville",
                "departement": "Liste transmise par le département",
                "caisse-retraite": "Liste transmise par une caisse de retraite",
            },
            "notice_modes": {
                "remise": "Notice remise en main propre",
                "courrier": "Notice envoyée par courrier",
                "lue": "Notice lue à la personne (téléphone ou accueil)",
            },
            "register_event_kinds": {
                "demande": "Demande d'inscription",
                "inscription": "Inscription au registre",
                "a-informer": "Reçue d'une liste transmise : à informer",
                "lettre-information": "Lettre d'information imprimée",
                "notice": "Notice d'information remise",
                "accuse-imprime": "Accusé de réception imprimé",
                "opposition": "Opposition de la personne",
                "radiation": "Radiation du registre",
                "lettre-radiation": "Lettre de radiation imprimée",
            },
            "campaign_kinds": {
                "canicule": "Canicule",
                "grand-froid": "Grand froid",
                "autre": "Autre alerte",
            },
            "alert_levels": {"jaune": "Jaune", "orange": "Orange", "rouge": "Rouge"},
            "campaign_risks": {
                "vit-seul": "Personne vivant seule",
                "sans-famille-proche": "Pas de proche à prévenir",
                "mobilite-reduite": "Mobilité réduite",
                "aide-a-domicile": "Aide à domicile",
                "etage-sans-ascenseur": "Étage sans ascenseur",
                "pas-de-contact-recent": "Pas de contact récent",
                "campagne-precedente-difficile": "Campagne précédente difficile",
                "grand-age": "90 ans ou plus",
            },
            "campaign_callees": {
                "personne": "La personne",
                "contact-urgence": "Son contact d'urgence",
                "visite-domicile": "Visite à domicile",
                "procedure-ville": "Procédure de la Ville (police, pompiers)",
            },
            "campaign_outcomes": {
                "joint-bien": "Jointe, va bien",
                "besoin-aide": "Besoin d'aide (visite aujourd'hui)",
                "pas-de-reponse": "Pas de réponse",
                "hospitalise": "Hospitalisée",
                "absent": "Absente (partie, en vacances)",
                "refuse-appels": "Refuse les appels",
                "decede": "Décédée",
                "procedure-declenchee": "Procédure déclenchée (police ou pompiers)",
            },
            "verdicts": {"poursuivre": "Poursuivre", "adapter": "Adapter", "arreter": "Arrêter"},
            "handout_variants": {"large": "Gros caractères", "very-large": "Très gros caractères"},
            "facility_statuses": {"ouvert": "Ouvert", "suspendu": "Suspendu", "ferme": "Fermé"},
            # Seasonal items a campaign offers (heatwave: cooled rooms and climate refuges;
            # cold: heated places): havre_desktop.core.catalogue.seasonal_offers.
            "seasonal_flags": {
                "salle-rafraichie": "Salle rafraîchie",
                "refuge-climatique": "Refuge climatique",
                "lieu-chauffe": "Lieu chauffé",
            },
            "temporary_change_kinds": {
                "fermeture": "Fermeture temporaire",
                "horaires": "Autres horaires",
                "message": "Message",
            },
            "accessibility_flags": {
                "step_free": "Accès de plain-pied",
                "hearing_loop": "Boucle magnétique",
                "easy_read": "Facile à lire et à comprendre",
                "sign_language": "Langue des signes",
                "adapted_transport": "Transport adapté",
            },
        }.items()
    }
)
"""Closed lists of the contract. Lists that the City edits (territories, needs, visit kinds…)
are reference data (:mod:`havre_common.reference`), named by ``Field.choices`` the same way."""


# -- fields ------------------------------------------------------------------------------------


class Kind(StrEnum):
    """What a field holds, on the wire and in both databases."""

    TEXT = "text"  # str, limited by max_length; one line unless multiline
    INTEGER = "integer"  # int within minimum..maximum
    BOOLEAN = "boolean"  # stored 0/1
    DATE = "date"  # ISO date (the desktop also accepts JJ/MM/AAAA when typed)
    TIMESTAMP = "timestamp"  # ISO 8601 date and time
    UUID = "uuid"  # a row id
    UUID_LIST = "uuid_list"  # JSON list of row ids
    CHOICE = "choice"  # one id of an enumeration or a reference list
    CHOICE_LIST = "choice_list"  # JSON list of such ids
    PHONE = "phone"  # French number, stored as "06 12 34 56 78"
    EMAIL = "email"
    POSTCODE = "postcode"  # five digits
    CODE = "code"  # a short machine identifier matching ``pattern``
    OBJECT = "object"  # small JSON object (evaluation indicators, audit detail)
    FLAGS = "flags"  # JSON object of ``choices`` → bool (accessibility)
    CONTACT_LIST = "contact_list"  # JSON list of {name, relation, phone} (emergency contacts)


JSON_KINDS: Final = frozenset(
    {Kind.UUID_LIST, Kind.CHOICE_LIST, Kind.OBJECT, Kind.FLAGS, Kind.CONTACT_LIST}
)
"""Kinds stored as JSON text in both databases."""


class Sync(StrEnum):
    """Where a table's rows travel."""

    BOTH = "both"  # edited on devices and on the server, sent both ways
    DOWN = "down"  # written on the server (or by coordinators), received by devices
    UP = "up"  # written on devices, sent up, removed locally once acknowledged
    LOCAL = "local"  # never leaves the device
    SERVER = "server"  # never leaves the server


class Policy(StrEnum):
    """How the server applies a pushed row (sync.md, "Policies")."""

    MERGE = "merge"  # per-field last-writer-wins by (HLC, device), conflicts kept
    REVISION = "revision"  # created once; later changes are revisions (author, closing fields)
    APPEND = "append"  # created once, never changed
    CATALOGUE = "catalogue"  # server-authoritative, coordinators and administrators only
    RESOLUTION = "resolution"  # conflicts: only their resolution is written by devices
    SERVER = "server"  # written by the server alone (reference data, the agent directory)


@dataclass(frozen=True)
class Field:
    """One column of a synced table, as both sides see it.

    ``required``: must be given (non-empty) when the row is created. ``updatable``: may change
    after creation. ``writers``: roles that may set a non-empty value (None: the table's
    writers). ``readers``: roles that receive the field (None: whoever receives the row).
    ``default``: the stored value when none is given (SQL default on both sides). ``filled``:
    not required from a device because the writer fills it when absent (the server's stamps).
    A field that is required, filled or has a default is NOT NULL. ``identifying``: identity,
    contact details or free text about a person: emptied when her file is anonymised at the
    end of its retention period (:func:`anonymised_value`).
    """

    name: str
    kind: Kind
    label: str
    required: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    choices: str | None = None
    pattern: str | None = None
    multiline: bool = False
    updatable: bool = True
    writers: frozenset[str] | None = None
    readers: frozenset[str] | None = None
    default: str | None = None
    max_items: int | None = None
    filled: bool = False
    identifying: bool = False

    @property
    def not_null(self) -> bool:
        return self.required or self.filled or self.default is not None

    @property
    def is_json(self) -> bool:
        return self.kind in JSON_KINDS

    @property
    def stored_length(self) -> int | None:
        """The length of the server's ``VARCHAR`` for short identifiers (None: ``TEXT``)."""
        if self.kind in (Kind.UUID, Kind.CHOICE, Kind.CODE):
            return self.max_length
        return None

    def max_json_bytes(self) -> int:
        """An upper bound of the UTF-8 size of this field's value in a pull page's JSON.

        Control characters are refused (validation), so a character takes at most 4 bytes
        (outside the BMP) or 2 (an escaped quote, backslash, or a line break in a multi-line
        text); the name, quotes, colon and comma are counted.
        """
        overhead = len(self.name) + 4
        if self.kind in (Kind.INTEGER,):
            return overhead + 20
        if self.kind is Kind.BOOLEAN:
            return overhead + 5
        if self.kind in (Kind.DATE, Kind.TIMESTAMP):
            return overhead + 2 + 40
        if self.kind in (Kind.UUID, Kind.CHOICE, Kind.CODE, Kind.PHONE, Kind.POSTCODE):
            return overhead + 2 + 4 * int(self.max_length or 40)
        if self.kind in (Kind.UUID_LIST, Kind.CHOICE_LIST):
            return overhead + 2 + int(self.max_items or 0) * (4 * int(self.max_length or 40) + 3)
        if self.kind is Kind.CONTACT_LIST:
            one = 2 + (6 + 4 * 200 + 3) + (10 + 4 * 100 + 3) + (7 + 14 + 3)
            return overhead + 2 + int(self.max_items or 0) * (one + 1)
        return overhead + 2 + 4 * int(self.max_length or 0)


# Fields that many tables share.
def _id() -> Field:
    return Field("id", Kind.UUID, "Identifiant", required=True, max_length=36, updatable=False)


def _territory(required: bool = True, label: str = "Territoire") -> Field:
    return Field("territory_id", Kind.CHOICE, label, required, max_length=40, choices="territories")


def _stamp(name: str, label: str, required: bool = True, **kw: object) -> Field:
    return Field(name, Kind.TIMESTAMP, label, required=required, max_length=40, **kw)  # type: ignore[arg-type]


def _uuid(name: str, label: str, required: bool = False, **kw: object) -> Field:
    return Field(name, Kind.UUID, label, required, max_length=36, **kw)  # type: ignore[arg-type]


def _text(name: str, label: str, limit: int, **kw: object) -> Field:
    return Field(name, Kind.TEXT, label, max_length=limit, **kw)  # type: ignore[arg-type]


def _flag(name: str, label: str, default: str = "0", **kw: object) -> Field:
    return Field(name, Kind.BOOLEAN, label, default=default, **kw)  # type: ignore[arg-type]


def _phone(name: str, label: str, identifying: bool = False) -> Field:
    return Field(name, Kind.PHONE, label, max_length=40, identifying=identifying)


def _seasonal() -> Field:
    return Field(
        "seasonal",
        Kind.FLAGS,
        "Usage saisonnier",
        choices="seasonal_flags",
        default="{}",
        max_length=200,
    )


def _choices(name: str, label: str, reference: str) -> Field:
    return Field(
        name, Kind.CHOICE_LIST, label, choices=reference, max_length=40, max_items=50, default="[]"
    )


# -- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Privacy:
    """Fields of a row that its author may keep private.

    When the boolean field ``flag`` is set, ``fields`` reach only the author (the agent named
    by ``author``) and the roles in ``readers``; every other device that receives the row gets
    them empty (the rest of the row still travels: colleagues know a visit took place).
    """

    flag: str
    author: str
    fields: tuple[str, ...]
    readers: frozenset[str]

    def withheld_from(self, row: dict[str, object], agent_id: str, role: str | None) -> bool:
        """Whether this reader gets the private fields of this row empty."""
        return (
            bool(row.get(self.flag))
            and row.get(self.author) != agent_id
            and (role not in self.readers)
        )


class Check(StrEnum):
    """A condition on one column, as :class:`KeepsActive` declares it."""

    EMPTY = "empty"  # NULL or ''
    FALSE = "false"  # 0 (or NULL)
    NOT_PAST = "not_past"  # NULL, or a date today or later


@dataclass(frozen=True)
class KeepsActive:
    """The rows of a table that keep a person's file in the active base (retention).

    A live row (not deleted) about the person for which every ``(column, test)`` holds keeps
    her file active, whatever the date of her last contact. ``label``: what it is, in French
    (said when a file is kept). The register tables and alert campaigns declare theirs the
    same way; the server's retention job reads them from the contract, never by hand.
    """

    conditions: tuple[tuple[str, Check], ...]
    label: str
    through: tuple[str, str, tuple[tuple[str, Check], ...]] | None = None
    """``(column, parent table, conditions)``: the row keeps the file active only while the
    parent row it names also meets these conditions (a call, while its campaign is open)."""


@dataclass(frozen=True)
class Table:
    """One synced table.

    ``writers``: roles whose devices may push rows of it. ``readers``: roles whose devices
    receive it (the server filters further by territory, see ``havre_server.scope``).
    ``person_column``: the column naming the person a row is about (scope, erasure, wipe,
    subject access); "id" for the contacts themselves. ``local_columns``: desktop-only
    bookkeeping (search text, FTS keys, derived dates). ``server_columns``: server-only
    bookkeeping, never sent down. ``synced_state``: whether the row carries the sync columns
    ``server_version`` and ``deleted`` on both sides. ``field_clocks``: per-field HLCs
    (``field_hlc``) travel with the row.
    """

    name: str
    label: str
    fields: tuple[Field, ...]
    sync: Sync
    policy: Policy
    writers: frozenset[str] = frozenset()
    readers: frozenset[str] = ALL_ROLES
    person_column: str | None = None
    local_columns: tuple[str, ...] = ()
    server_columns: tuple[str, ...] = ()
    synced_state: bool = True
    field_clocks: bool = False
    sample_flag: bool = False
    primary_key: tuple[str, ...] = ("id",)
    personal: bool = False
    private: Privacy | None = None
    contact_dates: tuple[str, ...] = ()
    keeps_active: KeepsActive | None = None
    purpose: str | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a field is declared twice")
        used = [*self.contact_dates]
        if self.keeps_active is not None:
            used += [column for column, _test in self.keeps_active.conditions]
            if self.keeps_active.through is not None:
                used.append(self.keeps_active.through[0])
        unknown = [c for c in used if c not in names]
        if unknown:
            raise ValueError(f"{self.name}: retention names unknown fields {unknown}")

    @property
    def by_name(self) -> MappingProxyType[str, Field]:
        return MappingProxyType({f.name: f for f in self.fields})

    def field(self, name: str) -> Field:
        return self.by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.required)

    @property
    def updatable(self) -> frozenset[str]:
        """Fields a device may change after creation (``id`` never)."""
        return frozenset(f.name for f in self.fields if f.updatable and f.name != "id")

    @property
    def json_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.is_json)

    @property
    def identifying(self) -> tuple[Field, ...]:
        """The fields emptied when a person's file is anonymised."""
        return tuple(f for f in self.fields if f.identifying)

    def readable_by(self, role: str | None) -> frozenset[str]:
        """The fields a device of this role holds (least data)."""
        return frozenset(
            f.name
            for f in self.fields
            if f.readers is None or (role is not None and role in f.readers)
        )

    def projected_for(self, role: str | None) -> bool:
        """Whether a device of this role holds only part of the row."""
        return self.readable_by(role) != frozenset(self.names)

    def max_row_json_bytes(self) -> int:
        """Upper bound of one row's ``fields`` as JSON (what a pull page carries)."""
        return 2 + sum(f.max_json_bytes() for f in self.fields)

    @property
    def sync_columns(self) -> tuple[str, ...]:
        return ("server_version", "deleted") if self.synced_state else ()


_STAMPS = (_stamp("created_at", "Créé le", updatable=False), _stamp("updated_at", "Modifié le"))
_EVERYONE_BUT_RECEPTION = frozenset({SOCIAL_WORKER, COORDINATOR, ADMINISTRATOR})

REFERENCE_TABLES: Final = (
    Table(
        "ref_territories",
        "Territoires",
        (
            Field("id", Kind.CODE, "Identifiant", True, max_length=40, pattern=r"^[a-z-]{1,40}$"),
            _text("name", "Nom", 200, required=True),
            Field("sort", Kind.INTEGER, "Ordre", True, minimum=0, maximum=1000),
        ),
        Sync.DOWN,
        Policy.SERVER,
        synced_state=False,
    ),
    Table(
        "ref_stakes",
        "Enjeux",
        (
            Field(
                "id", Kind.CODE, "Identifiant", True, max_length=40, pattern=r"^[a-z0-9-]{1,40}$"
            ),
            Field("number", Kind.INTEGER, "Numéro", True, minimum=0, maximum=100),
            _text("name", "Nom", 300, required=True),
        ),
        Sync.DOWN,
        Policy.SERVER,
        synced_state=False,
    ),
    Table(
        "ref_priorities",
        "Priorités",
        (
            Field(
                "id", Kind.CODE, "Identifiant", True, max_length=40, pattern=r"^[a-z0-9-]{1,40}$"
            ),
            Field("number", Kind.INTEGER, "Numéro", True, minimum=0, maximum=100),
            Field(
                "stake_id", Kind.CODE, "Enjeu", True, max_length=40, pattern=r"^[a-z0-9-]{1,40}$"
            ),
            _text("name", "Nom", 300, required=True),
        ),
        Sync.DOWN,
        Policy.SERVER,
        synced_state=False,
    ),
    Table(
        "ref_items",
        "Listes de référence",
        (
            Field("list", Kind.CODE, "Liste", True, max_length=40, pattern=r"^[a-z_]{1,40}$"),
            Field(
                "id", Kind.CODE, "Identifiant", True, max_length=40, pattern=r"^[a-z0-9-]{1,40}$"
            ),
            _text("name", "Nom", 300, required=True),
            Field("sort", Kind.INTEGER, "Ordre", True, minimum=0, maximum=1000),
        ),
        Sync.DOWN,
        Policy.SERVER,
        synced_state=False,
        primary_key=("list", "id"),
    ),
)

AGENTS: Final = Table(
    "agents",
    "Annuaire des agents",
    (
        _id(),
        _text("display_name", "Nom", 200, required=True),
        Field("role", Kind.CHOICE, "Rôle", True, max_length=40, choices="roles"),
        Field(
            "territory_ids",
            Kind.CHOICE_LIST,
            "Territoires",
            choices="territories",
            max_length=40,
            max_items=10,
            default="[]",
        ),
        _phone("work_phone", "Téléphone professionnel"),
        # The agent's own login: sent only in their own agent row (havre_server.scope).
        Field(
            "server_account",
            Kind.CODE,
            "Compte",
            max_length=100,
            pattern=r"^[a-z0-9._-]{2,100}$",
            readers=frozenset(),
        ),
        _stamp("updated_at", "Modifié le"),
        # Whether the agent may see the register of vulnerable persons (named staff only):
        # sent only in their own agent row, like their login (havre_server.scope).
        _flag("register_right", "Accès au registre", readers=frozenset()),
    ),
    Sync.DOWN,
    Policy.SERVER,
    server_columns=("scope_changed_seq",),
)

FACILITIES: Final = Table(
    "facilities",
    "Lieux",
    (
        _id(),
        Field(
            "kind_id", Kind.CHOICE, "Type de lieu", True, max_length=40, choices="facility_kinds"
        ),
        _text("name", "Nom du lieu", 300, required=True),
        _text("address_line", "Adresse", 300),
        Field("postcode", Kind.POSTCODE, "Code postal", max_length=5),
        _text("city", "Ville", 100),
        _territory(required=False),
        _phone("phone", "Téléphone"),
        _text("opening_hours", "Horaires", 1000, multiline=True),
        _flag("step_free", "Accès de plain-pied"),
        _stamp("updated_at", "Modifié le", required=False, filled=True),
        # Suspended or closed by a coordinator (the row stays: actions and history name it).
        Field(
            "status",
            Kind.CHOICE,
            "État du lieu",
            max_length=20,
            choices="facility_statuses",
            default="ouvert",
        ),
        _seasonal(),
    ),
    Sync.DOWN,
    Policy.CATALOGUE,
    writers=CATALOGUE_ROLES,
    sample_flag=True,
)

CITY_DETAILS: Final = Table(
    "city_details",
    "Coordonnées de la Ville",
    (
        # "ville": the City-wide row (standard, heatwave line); any other id is a desk or
        # service that receives the public (its name, address and hours), per territory.
        Field("id", Kind.CODE, "Identifiant", True, max_length=40, pattern=r"^[a-z0-9-]{1,40}$"),
        _territory(required=False),
        _text("desk_name", "Service ou accueil", 200),
        _text("address", "Adresse de l'accueil", 300),
        _text("opening_hours", "Horaires d'ouverture", 300),
        _text("standard_label", "Libellé du standard", 200),
        _phone("standard_phone", "Numéro du standard"),
        _phone("heatwave_line", "Ligne d'information canicule"),
        _stamp("updated_at", "Modifié le", required=False, filled=True),
    ),
    Sync.DOWN,
    Policy.SERVER,
    sample_flag=True,
)

STREETS: Final = Table(
    "streets",
    "Rues",
    (
        _id(),
        _text("name", "Nom de la rue", 200, required=True),
        _territory(),
        Field("postcode", Kind.POSTCODE, "Code postal", max_length=5),
    ),
    Sync.DOWN,
    Policy.SERVER,
    sample_flag=True,
)

ACTIONS: Final = Table(
    "actions",
    "Actions",
    (
        _id(),
        Field("code", Kind.TEXT, "Code", True, max_length=40),
        _text("title", "Intitulé", 300, required=True),
        _text("summary", "Résumé", 2000, multiline=True, default=""),
        _text("description", "Description", 10000, multiline=True, default=""),
        Field("priority_id", Kind.CHOICE, "Priorité", True, max_length=40, choices="priorities"),
        _choices("audience_ids", "Publics", "audiences"),
        _choices("need_ids", "Besoins", "need_kinds"),
        Field(
            "territory_ids",
            Kind.CHOICE_LIST,
            "Territoires",
            choices="territories",
            max_length=40,
            max_items=10,
            default="[]",
        ),
        _uuid("facility_id", "Lieu"),
        _text("schedule", "Horaires", 1000, multiline=True),
        _text("contact_name", "Contact", 200),
        _phone("contact_phone", "Téléphone du contact"),
        _text("signup", "Inscription", 1000, multiline=True),
        _flag("is_free", "Gratuit", default="1"),
        _text("price_label", "Tarif", 200),
        Field(
            "accessibility",
            Kind.FLAGS,
            "Accessibilité",
            choices="accessibility_flags",
            default="{}",
            max_length=200,
        ),
        _text("accessibility_note", "Précisions sur l'accessibilité", 2000, multiline=True),
        Field("status", Kind.CHOICE, "Statut", True, max_length=40, choices="action_statuses"),
        Field("start_date", Kind.DATE, "Début", max_length=40),
        Field("end_date", Kind.DATE, "Fin", max_length=40),
        _stamp("updated_at", "Modifié le", required=False, filled=True),
        _seasonal(),
        # When a coordinator last confirmed the action is still true (freshness: 6 months).
        Field("reviewed_on", Kind.DATE, "Vérifiée le", max_length=40),
    ),
    Sync.DOWN,
    Policy.CATALOGUE,
    writers=CATALOGUE_ROLES,
    local_columns=("seq", "search_audiences"),
    sample_flag=True,
)

TEMPORARY_CHANGES: Final = Table(
    "temporary_changes",
    "Changements temporaires",
    (
        _id(),
        # An action or a facility (one of the two): a closure, other hours or a message,
        # from ``starts_on`` to ``ends_on`` included (shown and printed in that period only).
        _uuid("action_id", "Action", updatable=False),
        _uuid("facility_id", "Lieu", updatable=False),
        Field(
            "kind",
            Kind.CHOICE,
            "Type de changement",
            True,
            max_length=20,
            choices="temporary_change_kinds",
        ),
        Field("starts_on", Kind.DATE, "Du", True, max_length=40),
        Field("ends_on", Kind.DATE, "Au", True, max_length=40),
        _text("hours", "Horaires pendant la période", 500),
        _text("message", "Message", 500),
        _uuid("author_agent_id", "Saisi par"),
        _stamp("updated_at", "Modifié le", required=False, filled=True),
    ),
    Sync.DOWN,
    Policy.CATALOGUE,
    writers=CATALOGUE_ROLES,
)

ACTION_EVALUATIONS: Final = Table(
    "action_evaluations",
    "Évaluations des actions",
    (
        _id(),
        _uuid("action_id", "Action", required=True, updatable=False),
        Field("evaluated_on", Kind.DATE, "Date de l'évaluation", True, max_length=40),
        Field("participants", Kind.INTEGER, "Participants", minimum=0, maximum=1_000_000),
        Field("verdict", Kind.CHOICE, "Décision", True, max_length=20, choices="verdicts"),
        Field("indicators", Kind.OBJECT, "Indicateurs", max_length=4000, default="{}"),
        _text("comment", "Commentaire", 5000, multiline=True),
        _uuid("author_agent_id", "Auteur", updatable=False),
        _stamp("updated_at", "Modifié le", required=False, filled=True),
        # The period the indicators were counted over, and the territories concerned (the
        # action's territories when it was evaluated): the coordinators of those territories
        # read the verdict.
        Field("period_start", Kind.DATE, "Début de la période évaluée", max_length=40),
        Field("period_end", Kind.DATE, "Fin de la période évaluée", max_length=40),
        Field(
            "territory_ids",
            Kind.CHOICE_LIST,
            "Territoires concernés",
            choices="territories",
            max_length=40,
            max_items=10,
            default="[]",
        ),
    ),
    Sync.BOTH,
    Policy.REVISION,
    writers=CATALOGUE_ROLES,
    readers=CATALOGUE_ROLES,
)

_RECEPTION_TOO = frozenset({SOCIAL_WORKER, COORDINATOR, ADMINISTRATOR, RECEPTION})
_NOT_RECEPTION = frozenset({SOCIAL_WORKER, COORDINATOR, ADMINISTRATOR})

CONTACTS: Final = Table(
    "contacts",
    "Personnes et organismes",
    (
        _id(),
        Field(
            "kind",
            Kind.CHOICE,
            "Type de fiche",
            True,
            max_length=20,
            choices="contact_kinds",
            updatable=False,
        ),
        # Identity and contact details: emptied when the file is anonymised (retention).
        _text("family_name", "Nom", 200, identifying=True),
        _text("given_names", "Prénom", 200, identifying=True),
        _text("organisation_name", "Nom de l'organisme", 200, identifying=True),
        Field("birth_date", Kind.DATE, "Date de naissance", max_length=40, identifying=True),
        _text("address_line", "Adresse", 300, identifying=True),
        Field("postcode", Kind.POSTCODE, "Code postal", max_length=5, identifying=True),
        _text("city", "Ville", 100, identifying=True),
        _territory(),
        _phone("phone_1", "Téléphone", identifying=True),
        _phone("phone_2", "Autre téléphone", identifying=True),
        Field("email", Kind.EMAIL, "Courriel", max_length=200, identifying=True),
        # What reception agents never receive: situation at home, access, emergency contacts.
        Field(
            "lives_alone",
            Kind.BOOLEAN,
            "Personne vivant seule",
            readers=_NOT_RECEPTION,
            writers=_NOT_RECEPTION,
        ),
        Field(
            "mobility",
            Kind.CHOICE,
            "Mobilité",
            max_length=40,
            choices="mobility_levels",
            readers=_NOT_RECEPTION,
            writers=_NOT_RECEPTION,
        ),
        _text(
            "access_notes",
            "Accès au logement",
            2000,
            multiline=True,
            readers=_NOT_RECEPTION,
            writers=_NOT_RECEPTION,
            identifying=True,
        ),
        Field(
            "emergency_contacts",
            Kind.CONTACT_LIST,
            "Contacts d'urgence",
            max_items=10,
            default="[]",
            readers=_NOT_RECEPTION,
            writers=_NOT_RECEPTION,
            identifying=True,
        ),
        _uuid("referent_agent_id", "Référent", readers=_NOT_RECEPTION, writers=_NOT_RECEPTION),
        # A reception desk counts walk-ins; it does not decide a fiche is closed.
        _flag("archived", "Archivée", writers=_NOT_RECEPTION),
        *_STAMPS,
        # Set by the server alone when the retention period ended (identity removed).
        Field("anonymised_on", Kind.DATE, "Anonymisée le", max_length=40, writers=frozenset()),
    ),
    Sync.BOTH,
    Policy.MERGE,
    writers=PERSON_ROLES,
    readers=PERSON_ROLES,
    person_column="id",
    local_columns=("seq", "search_phones", "last_visit_at"),
    server_columns=("field_meta",),
    field_clocks=True,
    sample_flag=True,
    contact_dates=("created_at",),
)

CONSENTS: Final = Table(
    "consents",
    "Consentements",
    (
        _id(),
        _uuid("contact_id", "Personne", required=True, updatable=False),
        Field(
            "purpose",
            Kind.CHOICE,
            "Objet",
            True,
            max_length=40,
            choices="consent_purposes",
            updatable=False,
        ),
        Field("given", Kind.BOOLEAN, "Consentement donné", True, updatable=False),
        Field("recorded_on", Kind.DATE, "Recueilli le", True, max_length=40, updatable=False),
        _text("method", "Recueilli comment", 500, required=True, updatable=False, identifying=True),
        _uuid("recorded_by_agent_id", "Recueilli par", updatable=False),
        Field("withdrawn_on", Kind.DATE, "Retiré le", max_length=40),
        _stamp("updated_at", "Modifié le"),
    ),
    Sync.BOTH,
    Policy.REVISION,
    writers=PERSON_ROLES,
    readers=PERSON_ROLES,
    person_column="contact_id",
    contact_dates=("recorded_on",),
)

ALERT_PLAN: Final = "alert-plan"
"""The purpose of the register tables: the alert plan (heatwave, cold), and nothing else."""
SUBJECT_ACCESS: Final = "subject-access"
"""The person's own right of access (RGPD art. 15): it covers every table about her, the
register included; it is not another use of the register (check_purpose lets it through)."""

REGISTER_ENROLMENTS: Final = Table(
    "register_enrolments",
    "Inscriptions au registre",
    (
        _id(),
        _uuid("person_id", "Personne", required=True, updatable=False),
        Field(
            "status",
            Kind.CHOICE,
            "État de l'inscription",
            False,
            max_length=20,
            choices="register_statuses",
            default="inscrite",
        ),
        Field(
            "requested_on", Kind.DATE, "Date de la demande", True, max_length=40, updatable=False
        ),
        Field("enrolled_on", Kind.DATE, "Inscrite le", max_length=40),
        Field(
            "basis",
            Kind.CHOICE,
            "Motif",
            True,
            max_length=40,
            choices="register_bases",
            updatable=False,
            readers=_NOT_RECEPTION,
        ),
        Field(
            "source",
            Kind.CHOICE,
            "Origine",
            False,
            max_length=20,
            choices="register_sources",
            default="saisie",
            updatable=False,
        ),
        Field(
            "requested_by",
            Kind.CHOICE,
            "Demandée par",
            True,
            max_length=20,
            choices="requesters",
            updatable=False,
            readers=_NOT_RECEPTION,
        ),
        _text(
            "requester_name",
            "Nom du demandeur",
            200,
            updatable=False,
            readers=_NOT_RECEPTION,
            identifying=True,
        ),
        _text(
            "requester_relation",
            "Lien avec la personne",
            100,
            updatable=False,
            readers=_NOT_RECEPTION,
        ),
        _flag("written_request", "Demande écrite reçue", updatable=False, readers=_NOT_RECEPTION),
        Field("consent_given", Kind.BOOLEAN, "Consentement", True, updatable=False),
        Field("consent_date", Kind.DATE, "Date du consentement", max_length=40, updatable=False),
        Field("objected_on", Kind.DATE, "Opposition le", max_length=40),
        Field(
            "inform_until",
            Kind.DATE,
            "Inscrite sans opposition après le",
            max_length=40,
            updatable=False,
        ),
        # The situation at home (the fiche holds lives alone, mobility, emergency contacts).
        Field("floor", Kind.INTEGER, "Étage", minimum=-2, maximum=60, readers=_NOT_RECEPTION),
        Field("lift", Kind.BOOLEAN, "Ascenseur", readers=_NOT_RECEPTION),
        _flag("help_at_home", "Aide à domicile", readers=_NOT_RECEPTION),
        _text("help_service", "Service d'aide à domicile", 200, readers=_NOT_RECEPTION),
        Field("notice_given_on", Kind.DATE, "Notice d'information remise le", max_length=40),
        Field(
            "notice_how",
            Kind.CHOICE,
            "Notice remise comment",
            max_length=20,
            choices="notice_modes",
        ),
        Field(
            "ack_due_on",
            Kind.DATE,
            "Accusé de réception à envoyer avant le",
            max_length=40,
            updatable=False,
        ),
        Field("ack_printed_on", Kind.DATE, "Accusé de réception imprimé le", max_length=40),
        Field("removed_on", Kind.DATE, "Radiée le", max_length=40),
        _text(
            "removal_reason",
            "Motif de la radiation",
            500,
            multiline=True,
            readers=_NOT_RECEPTION,
            identifying=True,
        ),
        Field(
            "removal_letter_printed_on",
            Kind.DATE,
            "Lettre de radiation imprimée le",
            max_length=40,
        ),
        _stamp("updated_at", "Modifié le"),
    ),
    Sync.BOTH,
    Policy.REVISION,
    writers=PERSON_ROLES,
    readers=PERSON_ROLES,
    person_column="person_id",
    contact_dates=("enrolled_on", "removed_on"),
    keeps_active=KeepsActive(
        (("removed_on", Check.NOT_PAST), ("objected_on", Check.EMPTY)),
        "inscription au registre en cours",
    ),
    purpose=ALERT_PLAN,
)

REGISTER_EVENTS: Final = Table(
    "register_events",
    "Historique du registre",
    (
        _id(),
        _uuid("enrolment_id", "Inscription", required=True, updatable=False),
        _uuid("person_id", "Personne", required=True, updatable=False),
        Field(
            "event",
            Kind.CHOICE,
            "Étape",
            True,
            max_length=40,
            choices="register_event_kinds",
            updatable=False,
        ),
        Field("occurred_on", Kind.DATE, "Date", True, max_length=40, updatable=False),
        _uuid("agent_id", "Agent", updatable=False),
        _text("note", "Précision", 500, updatable=False, readers=_NOT_RECEPTION),
        _stamp("created_at", "Enregistré le", updatable=False),
    ),
    Sync.BOTH,
    Policy.APPEND,
    writers=PERSON_ROLES,
    readers=PERSON_ROLES,
    person_column="person_id",
    purpose=ALERT_PLAN,
)

# -- alert campaigns (issue 14, second half): the alert plan's call lists -----------------------

ALERT_CAMPAIGNS: Final = Table(
    "alert_campaigns",
    "Campagnes d'alerte",
    (
        _id(),
        Field("kind", Kind.CHOICE, "Type d'alerte", True, max_length=20, choices="campaign_kinds"),
        Field("level", Kind.CHOICE, "Niveau d'alerte", True, max_length=20, choices="alert_levels"),
        _text("title", "Intitulé", 200, required=True),
        Field(
            "territory_ids",
            Kind.CHOICE_LIST,
            "Territoires",
            choices="territories",
            max_length=40,
            max_items=10,
            default="[]",
        ),
        Field("starts_on", Kind.DATE, "Début", True, max_length=40),
        Field("expected_end_on", Kind.DATE, "Fin prévue", max_length=40),
        Field("closed_on", Kind.DATE, "Close le", max_length=40),
        Field(
            "retry_delay_min",
            Kind.INTEGER,
            "Délai avant de rappeler (minutes)",
            minimum=5,
            maximum=1440,
            default="60",
        ),
        Field(
            "failed_calls_before_emergency",
            Kind.INTEGER,
            "Appels sans réponse avant le contact d'urgence",
            minimum=1,
            maximum=10,
            default="2",
        ),
        _uuid("created_by", "Lancée par", updatable=False),
        _stamp("updated_at", "Modifié le"),
    ),
    Sync.DOWN,
    Policy.SERVER,
    readers=PERSON_ROLES,
    purpose=ALERT_PLAN,
)

CAMPAIGN_CALLS: Final = Table(
    "campaign_calls",
    "Listes d'appels",
    (
        _id(),
        _uuid("campaign_id", "Campagne", required=True, updatable=False),
        _uuid("person_id", "Personne", required=True, updatable=False),
        _uuid("agent_id", "Agent", required=True),
        Field("rank", Kind.INTEGER, "Rang sur la liste", True, minimum=1, maximum=100_000),
        Field("risk_score", Kind.INTEGER, "Score de risque", minimum=0, maximum=1000, default="0"),
        Field(
            "risk_reasons",
            Kind.CHOICE_LIST,
            "Motifs de priorité",
            choices="campaign_risks",
            max_length=40,
            max_items=20,
            default="[]",
        ),
        _uuid("previous_agent_id", "Agent précédent"),
        _stamp("assigned_at", "Attribuée le"),
        _stamp("updated_at", "Modifié le"),
    ),
    Sync.DOWN,
    Policy.SERVER,
    readers=PERSON_ROLES,
    person_column="person_id",
    # A person on a call list of an open campaign: her file stays active (retention).
    keeps_active=KeepsActive(
        (),
        "campagne d'alerte en cours",
        through=("campaign_id", "alert_campaigns", (("closed_on", Check.EMPTY),)),
    ),
    purpose=ALERT_PLAN,
)

CAMPAIGN_OUTCOMES: Final = Table(
    "campaign_outcomes",
    "Résultats des appels",
    (
        _id(),
        _uuid("campaign_id", "Campagne", required=True, updatable=False),
        _uuid("call_id", "Appel", required=True, updatable=False),
        _uuid("person_id", "Personne", required=True, updatable=False),
        _uuid("agent_id", "Agent", required=True, updatable=False),
        Field(
            "called_whom",
            Kind.CHOICE,
            "Qui a été appelé",
            True,
            max_length=20,
            choices="campaign_callees",
            updatable=False,
        ),
        Field(
            "outcome",
            Kind.CHOICE,
            "Résultat",
            True,
            max_length=20,
            choices="campaign_outcomes",
            updatable=False,
        ),
        _flag("urgent", "Urgence (appeler le 15)", updatable=False),
        _text("note", "Note", 500, multiline=True, updatable=False, identifying=True),
        _uuid("offered_action_id", "Action proposée", updatable=False),
        _uuid("entered_by", "Saisi par (feuille papier)", updatable=False),
        _stamp("called_at", "Appelée le", updatable=False),
        _stamp("created_at", "Enregistré le", updatable=False),
    ),
    Sync.BOTH,
    Policy.APPEND,
    writers=PERSON_ROLES,
    readers=PERSON_ROLES,
    person_column="person_id",
    contact_dates=("called_at",),
    purpose=ALERT_PLAN,
)

VISITS: Final = Table(
    "visits",
    "Visites",
    (
        _id(),
        _uuid("person_id", "Personne", required=True, updatable=False),
        _uuid("agent_id", "Agent", required=True, updatable=False),
        _stamp("occurred_at", "Date de la visite"),
        Field("kind", Kind.CHOICE, "Type de contact", True, max_length=40, choices="visit_kinds"),
        Field("outcome", Kind.CHOICE, "Résultat", True, max_length=40, choices="visit_outcomes"),
        Field("duration_min", Kind.INTEGER, "Durée (minutes)", minimum=1, maximum=600),
        Field("wellbeing", Kind.INTEGER, "Bien-être", minimum=1, maximum=5),
        _choices("need_ids", "Besoins", "need_kinds"),
        Field(
            "proposed_action_ids",
            Kind.UUID_LIST,
            "Actions proposées",
            max_length=36,
            max_items=50,
            default="[]",
        ),
        _flag("handout_given", "Document remis"),
        Field("follow_up_on", Kind.DATE, "Date de suivi", max_length=40),
        _text("notes", "Notes", 10000, multiline=True, identifying=True),
        Field("revision", Kind.INTEGER, "Révision", minimum=1, maximum=10000, default="1"),
        *_STAMPS,
        _flag("notes_private", "Note privée (vous et les coordinateurs)"),
    ),
    Sync.BOTH,
    Policy.REVISION,
    writers=CARE_ROLES,
    readers=CARE_ROLES,
    person_column="person_id",
    sample_flag=True,
    # A private note reaches its author and the coordinators of the person's territory only;
    # colleagues still receive the visit (continuity), with the note empty.
    private=Privacy("notes_private", "agent_id", ("notes",), frozenset({COORDINATOR})),
    contact_dates=("occurred_at",),
)

PLANNED_CONTACTS: Final = Table(
    "planned_contacts",
    "Contacts prévus",
    (
        _id(),
        _uuid("person_id", "Personne", required=True, updatable=False),
        _uuid("agent_id", "Agent", required=True),
        Field("due_on", Kind.DATE, "Date prévue", True, max_length=40),
        Field("kind", Kind.CHOICE, "Type de contact", True, max_length=40, choices="planned_kinds"),
        _text("reason", "Motif", 2000, multiline=True, identifying=True),
        _uuid("done_by_visit_id", "Fait lors de la visite"),
        _flag("cancelled", "Annulé"),
        _stamp("updated_at", "Modifié le"),
    ),
    Sync.BOTH,
    Policy.MERGE,
    writers=CARE_ROLES,
    readers=CARE_ROLES,
    person_column="person_id",
    server_columns=("field_meta",),
    field_clocks=True,
    sample_flag=True,
    contact_dates=("due_on",),
    keeps_active=KeepsActive(
        (("done_by_visit_id", Check.EMPTY), ("cancelled", Check.FALSE)), "contact prévu ouvert"
    ),
)

RECEPTION_ENCOUNTERS: Final = Table(
    "reception_encounters",
    "Accueils",
    (
        _id(),
        _stamp("occurred_at", "Date"),
        _territory(),
        Field("need_id", Kind.CHOICE, "Besoin", True, max_length=40, choices="need_kinds"),
        Field("age_group_id", Kind.CHOICE, "Tranche d'âge", max_length=40, choices="age_groups"),
        _uuid("agent_id", "Agent", required=True),
        _uuid("facility_id", "Lieu"),
    ),
    Sync.UP,
    Policy.APPEND,
    writers=ALL_ROLES,
    readers=frozenset(),
)

HANDOUTS_GIVEN: Final = Table(
    "handouts_given",
    "Documents remis",
    (
        _id(),
        _uuid("person_id", "Personne", updatable=False),
        _uuid("agent_id", "Agent", required=True),
        _stamp("given_at", "Remis le"),
        Field("action_ids", Kind.UUID_LIST, "Actions", max_length=36, max_items=50, default="[]"),
        Field(
            "variant",
            Kind.CHOICE,
            "Taille des caractères",
            True,
            max_length=20,
            choices="handout_variants",
            default="large",
        ),
        _uuid("visit_id", "Visite"),
        _territory(required=False),
    ),
    Sync.BOTH,
    Policy.APPEND,
    writers=ALL_ROLES,
    readers=CARE_ROLES,
    person_column="person_id",
    contact_dates=("given_at",),
)

AUDIT_LOG: Final = Table(
    "audit_log",
    "Journal d'audit",
    (
        _id(),
        _stamp("at", "Date"),
        _uuid("agent_id", "Agent"),
        Field(
            "event", Kind.CODE, "Évènement", True, max_length=60, pattern=r"^[a-z][a-z0-9-]{0,59}$"
        ),
        Field("entity", Kind.CODE, "Objet", max_length=60, pattern=r"^[a-z_]{1,60}$"),
        Field(
            "entity_id",
            Kind.CODE,
            "Identifiant de l'objet",
            max_length=100,
            pattern=r"^[A-Za-z0-9:_.-]{1,100}$",
        ),
        Field("detail", Kind.OBJECT, "Détail", max_length=4000),
    ),
    Sync.UP,
    Policy.APPEND,
    writers=ALL_ROLES,
    readers=frozenset(),
    # The server's chain (havre_server.audit): position, previous entry's hash, own hash.
    server_columns=("device_id", "received_at_ms", "chain_seq", "prev_hash", "entry_hash"),
    synced_state=False,
)

CONFLICTS: Final = Table(
    "conflicts",
    "Conflits",
    (
        _id(),
        Field(
            "table_name",
            Kind.CODE,
            "Table",
            True,
            max_length=40,
            pattern=r"^[a-z_]{1,40}$",
            updatable=False,
        ),
        _uuid("row_id", "Ligne", required=True, updatable=False),
        Field(
            "field",
            Kind.CODE,
            "Champ",
            True,
            max_length=64,
            pattern=r"^[a-z][a-z0-9_]{0,63}$",
            updatable=False,
        ),
        _text(
            "local_value",
            "Valeur gardée",
            12000,
            multiline=True,
            updatable=False,
            identifying=True,
        ),
        _text(
            "remote_value",
            "Valeur écartée",
            12000,
            multiline=True,
            updatable=False,
            identifying=True,
        ),
        Field("local_hlc", Kind.TEXT, "Horodatage gardé", max_length=84, updatable=False),
        Field("remote_hlc", Kind.TEXT, "Horodatage écarté", max_length=84, updatable=False),
        _uuid("local_agent_id", "Agent (valeur gardée)", updatable=False),
        _uuid("remote_agent_id", "Agent (valeur écartée)", updatable=False),
        _stamp("created_at", "Créé le", updatable=False),
        _stamp("resolved_at", "Résolu le", required=False),
        _text("resolution", "Résolution", 2000, multiline=True, identifying=True),
    ),
    Sync.BOTH,
    Policy.RESOLUTION,
    writers=PERSON_ROLES,
    readers=PERSON_ROLES,
    server_columns=("person_id",),
    personal=True,
)

TABLES: Final[MappingProxyType[str, Table]] = MappingProxyType(
    {
        t.name: t
        for t in (
            *REFERENCE_TABLES,
            AGENTS,
            FACILITIES,
            CITY_DETAILS,
            STREETS,
            ACTIONS,
            TEMPORARY_CHANGES,
            ACTION_EVALUATIONS,
            CONTACTS,
            CONSENTS,
            REGISTER_ENROLMENTS,
            REGISTER_EVENTS,
            ALERT_CAMPAIGNS,
            CAMPAIGN_CALLS,
            CAMPAIGN_OUTCOMES,
            VISITS,
            PLANNED_CONTACTS,
            RECEPTION_ENCOUNTERS,
            HANDOUTS_GIVEN,
            AUDIT_LOG,
            CONFLICTS,
        )
    }
)
"""Every synced table, parents before children (the order inserts can follow)."""


# -- derived lists (what used to be typed out in a dozen places) ---------------------------------


def tables(*, sync: Sync | None = None, policy: Policy | None = None) -> Iterator[Table]:
    for table in TABLES.values():
        if (sync is None or table.sync is sync) and (policy is None or table.policy is policy):
            yield table


REFERENCE_TABLE_NAMES: Final = tuple(t.name for t in REFERENCE_TABLES)
PULLED_TABLES: Final = frozenset(
    t.name for t in TABLES.values() if t.sync in (Sync.BOTH, Sync.DOWN) and t.readers
)
"""Tables whose rows a pull may bring to a device."""
PUSHED_TABLES: Final = frozenset(t.name for t in TABLES.values() if t.writers)
"""Tables a device may push rows of."""
MERGE_TABLES: Final = frozenset(t.name for t in tables(policy=Policy.MERGE))
UP_ONLY_TABLES: Final = frozenset(t.name for t in tables(sync=Sync.UP))
"""Rows sent up and removed from the device once acknowledged (reception, audit)."""
PERSON_TABLES: Final = tuple(t.name for t in TABLES.values() if t.person_column)
"""Tables of personal data, the person's own fiche first (parents before children)."""
PERSONAL_TABLES: Final = tuple(t.name for t in TABLES.values() if t.person_column or t.personal)
"""Tables whose rows are about a person (least data: wipe, erasure, rejected edits)."""
PERSON_DEPENDENTS: Final = tuple(
    (t.name, str(t.person_column))
    for t in TABLES.values()
    if t.person_column and t.person_column != "id"
)
"""(table, column naming the person) for every row that belongs to a person."""
PURPOSE_TABLES: Final = MappingProxyType(
    {t.name: t.purpose for t in TABLES.values() if t.purpose is not None}
)
"""Tables the law restricts to one purpose (table → purpose)."""
REGISTER_TABLES: Final = frozenset(n for n, p in PURPOSE_TABLES.items() if p == ALERT_PLAN)
"""The register of vulnerable persons: seen only by agents with the register right, read only
by the alert plan (campaigns, their letters, the préfet's export)."""


class PurposeRefusedError(PermissionError):
    """A list, mailing, export or report asked to read a table kept for another purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_purpose(
    table_names: Iterator[str] | tuple[str, ...] | frozenset[str], purpose: str | None
) -> None:
    """Refuse (French message) any read of a purpose-bound table by a use with another purpose.

    Every list, mailing, export and report declares the tables it reads and its purpose
    (None: an ordinary use) and calls this before reading a row.
    """
    for name in table_names:
        bound = PURPOSE_TABLES.get(name)
        if bound is not None and purpose not in (bound, SUBJECT_ACCESS):
            raise PurposeRefusedError(
                "Le registre des personnes vulnérables sert uniquement au plan d'alerte "
                "(canicule, grand froid) : il ne peut pas servir à cette liste, ce courrier, "
                "cet export ou ce rapport."
            )


JSON_FIELDS: Final = frozenset(f.name for t in TABLES.values() for f in t.fields if f.is_json)
"""Fields stored as JSON text (same name, same meaning in every table)."""
DESKTOP_LOCAL_COLUMNS: Final = frozenset(c for t in TABLES.values() for c in t.local_columns)
"""Columns only the desktop has: never sent up, refused when a server sends them."""
SERVER_ONLY_COLUMNS: Final = frozenset(c for t in TABLES.values() for c in t.server_columns)
"""Columns only the server has: never sent down."""
SYNC_STATE_COLUMNS: Final = ("server_version", "deleted")
CLOCK_COLUMN: Final = "field_hlc"
SAMPLE_COLUMN: Final = "is_sample"
"""Marks demonstration rows (sample catalogue, demo data); kept on each side, never sent."""


CONTACT_DATES: Final = tuple(
    (t.name, column) for t in TABLES.values() if t.person_column for column in t.contact_dates
)
"""(table, column) of every date of a contact with a person (retention: the last contact)."""
KEEPS_ACTIVE: Final = tuple(
    (t.name, t.keeps_active)
    for t in TABLES.values()
    if t.person_column and t.keeps_active is not None
)
"""(table, rule) of the rows that keep a person's file active whatever its age (retention)."""
IDENTIFYING: Final = MappingProxyType(
    {t.name: tuple(f.name for f in t.identifying) for t in TABLES.values() if t.identifying}
)
"""The fields anonymisation empties, per table (identity, contact details, free text)."""
ANONYMISED_COLUMN: Final = "anonymised_on"
"""The contacts field the server sets when it anonymises a file (never set by a device)."""


def anonymised_value(f: Field) -> object:
    """What an identifying field holds once anonymised: NULL, or its empty default (a JSON
    field's decoded: ``[]``), or ``""`` for a required text."""
    if f.default is not None:
        return json.loads(f.default) if f.is_json else f.default
    return "" if f.required else None


def ui_max_length(table: str, field_name: str) -> int:
    """The maximum length of a desktop input bound to this field (0: no limit)."""
    found = TABLES[table].field(field_name)
    return int(found.max_length or 0) if found.kind is not Kind.OBJECT else 0


def field_label(table: str, field_name: str) -> str:
    return TABLES[table].field(field_name).label


def enum_values(name: str) -> MappingProxyType[str, str]:
    return ENUMS[name]
