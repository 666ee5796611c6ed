"""The sync protocol between the desktop and the City's server: one set of types for both sides.

Qt-free and server-free: the server (``havre_server``) and the desktop's sync client import
these models; the OpenAPI schema the server publishes is generated from them, so it is the
contract. Every model refuses unknown keys (``extra="forbid"``), wrong JSON types (strict
mode: no "1" for 1) and over-long values, so that a hostile or corrupt request or reply is
refused as a whole instead of being half-applied.

Wire conventions
----------------
* JSON under ``/api/v1``; times are integers in milliseconds since the epoch (UTC) and
  hybrid logical clock stamps are strings (see ``havre_common.hlc``).
* Authenticated calls send ``Authorization: Bearer <token>``; sync calls also send
  ``X-Havre-Client-Version`` (the desktop's version, ``MAJOR.MINOR.PATCH``).
* Errors always have an :class:`ErrorBody` with a stable ``code`` and a French ``message``
  meant for the person at the screen (see :data:`ERROR_STATUS`).
* Text: names, logins, passwords and labels are :data:`Text` (no control character, no lone
  surrogate: PostgreSQL refuses NUL, UTF-8 cannot carry a lone surrogate, and neither belongs
  in a name); messages are :data:`French` (several lines allowed, other control characters
  replaced, never refused: a message quoting a bad value must still reach the person).
  Digits in patterns are ASCII ``[0-9]``: pydantic's ``\\d`` also matches ``'٣'``, which
  ``int()`` reads as 3.

Pull cursors are opaque strings. ``"0"`` asks for a full download: the server first sends a
*snapshot* of every row the agent may see now (``phase == "snapshot"``), then switches to the
change log (``phase == "log"``). A full download is authoritative: rows the client holds that
the snapshot did not contain are no longer visible to the agent and must be removed (edits still
waiting in the outbox are kept and pushed later). ``reset_required`` asks for exactly that: start
again from ``"0"`` (sent when the cursor is older than the retained log, unknown to this server,
or older than a change of the agent's own scope: role or territories).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    RootModel,
    field_validator,
    model_validator,
)

from havre_common.hlc import STAMP_PATTERN
from havre_common.values import NOT_MULTILINE_TEXT, NOT_TEXT

PROTOCOL_VERSION = 1
API_PREFIX = "/api/v1"
CLIENT_VERSION_HEADER = "X-Havre-Client-Version"

MAX_PUSH_BATCH = 200
"""Mutations per push request; a client with more sends several batches."""
MAX_PULL_LIMIT = 1000
DEFAULT_PULL_LIMIT = 500
MAX_FIELDS_PER_ROW = 64
MAX_ROW_JSON_BYTES = 128 * 1024
"""Serialised size of one mutation's or one change's fields. Every row the contract accepts
fits (``Table.max_row_json_bytes``, checked by tests/test_contract.py)."""
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
"""Beyond this difference between the client's and the server's clock a push is refused."""
MAX_CURSOR_LENGTH = 200
CURSOR_PATTERN = r"^[!-~]{1,200}$"
"""Cursors are opaque, but printable ASCII: a client may read a log cursor as a number."""

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
HLC_PATTERN = STAMP_PATTERN
VERSION_PATTERN = r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$"  # ASCII: \d takes other digits
ROW_ID_PATTERN = r"^[A-Za-z0-9:_.-]{1,100}$"
TABLE_PATTERN = r"^[a-z_]{1,40}$"
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # \Z: "$" also matches before a final "\n"

Role = Literal["travailleur-social", "accueil", "coordinateur", "administrateur"]
MutationOp = Literal["insert", "update", "delete"]
ChangeOp = Literal["upsert", "remove"]
RemovalReason = Literal["deleted", "revoked", "erased"]
MutationStatus = Literal["applied", "duplicate", "conflict", "rejected"]
Phase = Literal["snapshot", "log"]

# C0 and C1 control characters, DEL, and lone surrogates (Unicode categories Cc and Cs).


def _refuse_control_characters(value: str) -> str:
    if NOT_TEXT.search(value):
        raise ValueError("caractère de contrôle ou invalide dans le texte")
    return value


def printable(value: str, *, multiline: bool = True) -> str:
    """``value`` with every control character (but line feeds and tabs when ``multiline``)
    and every lone surrogate replaced by U+FFFD: for quoting a received value in a message."""
    return (NOT_MULTILINE_TEXT if multiline else NOT_TEXT).sub("\ufffd", value)


Text = Annotated[str, AfterValidator(_refuse_control_characters)]
"""One line of text typed by a person or a program: refused if it has a control character."""
French = Annotated[str, Field(max_length=2000), AfterValidator(printable)]
"""A message for the person at the screen (several lines allowed), made printable."""

Uuid = Annotated[str, Field(pattern=UUID_PATTERN, max_length=36)]
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
HlcStamp = Annotated[str, Field(pattern=HLC_PATTERN, max_length=84)]
TerritoryId = Annotated[str, Field(pattern=r"^[a-z-]{1,40}$")]
ShortText = Annotated[Text, Field(max_length=200)]
Phone = Annotated[Text, Field(max_length=40)]
Cursor = Annotated[str, Field(pattern=CURSOR_PATTERN, max_length=MAX_CURSOR_LENGTH)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


_GOOD_FIELD_NAMES: set[str] = set()  # names already matched against FIELD_NAME (column names)


def _size_bound(value: Any, depth: int = 0) -> int | None:
    """An upper bound of the UTF-8 size of ``value`` as JSON, None when not cheap to tell.

    A character takes at most 6 bytes in the JSON text (``\\u001f``); a string that cannot be
    encoded (lone surrogate) raises as the exact measure would.
    """
    kind = type(value)
    if kind is str:
        if not value.isascii():
            value.encode("utf-8")
        return 6 * len(value) + 2
    if value is None or kind is bool:
        return 5
    if kind is int:
        return len(str(value))
    if kind is float:
        return 25  # repr of a float, or -Infinity
    if depth > 8:
        return None
    total = 2
    if kind is list:
        for item in value:
            size = _size_bound(item, depth + 1)
            if size is None:
                return None
            total += size + 1
        return total
    if kind is dict:
        for key, item in value.items():
            key_size = _size_bound(key, depth + 1) if type(key) is str else None
            size = _size_bound(item, depth + 1)
            if key_size is None or size is None:
                return None
            total += key_size + size + 2
        return total
    return None


def _check_fields(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return value
    if len(value) > MAX_FIELDS_PER_ROW:
        raise ValueError(f"trop de champs (au plus {MAX_FIELDS_PER_ROW})")
    for key in value:
        if key not in _GOOD_FIELD_NAMES:
            if not FIELD_NAME.fullmatch(key):
                raise ValueError("nom de champ invalide")
            if len(_GOOD_FIELD_NAMES) < 1000:
                _GOOD_FIELD_NAMES.add(key)
    # Rows are far below the limit: a cheap bound proves it for flat rows; the exact size
    # (json.dumps) is measured only when the bound does not.
    bound = _size_bound(value)
    if bound is None or bound > MAX_ROW_JSON_BYTES:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > MAX_ROW_JSON_BYTES:
            raise ValueError(f"champs trop volumineux (au plus {MAX_ROW_JSON_BYTES} octets)")
    return value


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.10.2"`` → ``(0, 10, 2)``, for comparing client versions; ValueError for anything
    but ASCII ``MAJOR.MINOR.PATCH`` (``int()`` alone would read "٩.٩.٩" as 9.9.9)."""
    if not re.fullmatch(VERSION_PATTERN, text):
        raise ValueError(f"version invalide : {text[:20]!r}")
    return tuple(int(part) for part in text.split("."))


# -- errors -------------------------------------------------------------------------------------


class ErrorBody(_Model):
    """Every non-2xx answer. ``wipe`` is true only for a revoked device."""

    code: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]
    message: French
    wipe: bool = False
    retry_after_s: Annotated[int, Field(ge=0)] | None = None
    details: Annotated[list[French], Field(max_length=50)] = []


ERROR_STATUS: dict[str, int] = {
    "invalid_cursor": 400,
    "invalid_request": 422,
    "body_too_large": 413,
    "missing_token": 401,
    "invalid_token": 401,
    "token_expired": 401,
    "account_disabled": 401,
    "bad_credentials": 401,
    "too_many_attempts": 429,
    "device_revoked": 410,
    "client_too_old": 426,
    "clock_skew": 409,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "busy": 503,
    "internal_error": 500,
}
"""Stable error codes and their HTTP status. ``device_revoked`` (410) is the only one that asks
the client to wipe itself; the 401 codes ask for a new sign-in and never wipe."""


# -- session ------------------------------------------------------------------------------------


class LoginRequest(_Model):
    login: Annotated[Text, Field(min_length=1, max_length=100)]
    password: Annotated[Text, Field(min_length=1, max_length=256)]
    device_id: DeviceId
    device_label: Annotated[Text, Field(max_length=100)] = ""
    client_version: Annotated[str, Field(pattern=VERSION_PATTERN)]


class AgentInfo(_Model):
    id: Uuid
    display_name: ShortText
    role: Role
    territory_ids: Annotated[list[TerritoryId], Field(max_length=10)]
    work_phone: Phone | None = None
    register_right: bool = False  # may hold the register of vulnerable persons


class LoginReply(_Model):
    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{20,200}$")]
    expires_at_ms: int
    device_id: DeviceId
    agent: AgentInfo
    server_time_ms: int


# -- meta ---------------------------------------------------------------------------------------


class MetaReply(_Model):
    protocol_version: int
    server_version: Annotated[str, Field(pattern=VERSION_PATTERN)]
    schema_version: int
    min_client_version: Annotated[str, Field(pattern=VERSION_PATTERN)]
    server_time_ms: int
    head_seq: Annotated[int, Field(ge=0)]
    max_push_batch: int
    max_pull_limit: int
    max_clock_skew_ms: int


# -- push ---------------------------------------------------------------------------------------


def _document_mutation(schema: dict[str, Any]) -> None:
    """The published schema describes ``changed_fields`` per table and operation (from the
    contract); what is accepted stays this model's (then the validation's, per field)."""
    from havre_common.json_schema import mutation_variants

    schema["oneOf"] = mutation_variants()


def _document_rows(table: str) -> Any:
    def document(schema: dict[str, Any]) -> None:
        from havre_common.json_schema import catalogue_row_schema

        schema["items"] = catalogue_row_schema(table)

    return document


class Mutation(_Model):
    """One outbox entry, as the client wrote it in the same transaction as the edit.

    ``changed_fields`` holds fields of ``table_name`` as the contract describes them (the
    published OpenAPI lists them per table and operation); the server checks them field by
    field, and answers a refusal per mutation rather than refusing the whole batch.
    """

    model_config = ConfigDict(json_schema_extra=_document_mutation)

    mutation_id: Uuid
    table_name: Annotated[str, Field(pattern=TABLE_PATTERN)]
    row_id: Uuid
    op: MutationOp
    changed_fields: dict[str, JsonValue]
    base_version: Annotated[int, Field(ge=0, le=2**53)]
    hlc: HlcStamp

    @field_validator("changed_fields")
    @classmethod
    def _fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        checked = _check_fields(value)
        assert checked is not None
        return checked


class PushRequest(_Model):
    device_id: DeviceId
    client_time_ms: Annotated[int, Field(ge=0, le=2**53)]
    mutations: Annotated[list[Mutation], Field(min_length=1, max_length=MAX_PUSH_BATCH)]

    @model_validator(mode="after")
    def _unique_ids(self) -> PushRequest:
        ids = [m.mutation_id for m in self.mutations]
        if len(set(ids)) != len(ids):
            raise ValueError("un même identifiant de modification figure deux fois dans le lot")
        return self


class MutationResult(_Model):
    """What became of one mutation.

    ``applied``: done. ``conflict``: applied, but another device had changed the same field
    since ``base_version``; the winner by (HLC, device) is in the row and both values are kept
    in a conflict row (ids in ``conflict_ids``) until someone resolves it. ``rejected``: nothing
    changed; ``reason`` says why, in French. ``duplicate``: already received (a retry);
    ``original_status`` and ``reason`` repeat the first answer.
    """

    mutation_id: Uuid
    status: MutationStatus
    original_status: Literal["applied", "conflict", "rejected"] | None = None
    reason: French | None = None
    server_version: Annotated[int, Field(ge=0)] | None = None
    conflict_ids: Annotated[list[Uuid], Field(max_length=MAX_FIELDS_PER_ROW)] = []
    hlc_adjusted_to: HlcStamp | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MutationResult:
        if self.status == "rejected" and not self.reason:
            raise ValueError("un refus doit avoir un motif")
        if self.status == "duplicate" and self.original_status is None:
            raise ValueError("un doublon doit rappeler le premier résultat")
        return self


class PushReply(_Model):
    results: Annotated[list[MutationResult], Field(max_length=MAX_PUSH_BATCH)]
    server_time_ms: int


# -- pull ---------------------------------------------------------------------------------------


class Change(_Model):
    """One row to upsert (``fields`` holds the whole row the agent may see) or remove."""

    seq: Annotated[int, Field(ge=0)]
    table_name: Annotated[str, Field(pattern=TABLE_PATTERN)]
    row_id: Annotated[str, Field(pattern=ROW_ID_PATTERN)]
    op: ChangeOp
    reason: RemovalReason | None = None
    fields: dict[str, JsonValue] | None = None
    field_hlc: dict[str, HlcStamp] | None = None
    server_version: Annotated[int, Field(ge=0)]

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_fields(value)

    @model_validator(mode="after")
    def _consistent(self) -> Change:
        if self.op == "upsert" and (self.fields is None or self.reason is not None):
            raise ValueError("une mise à jour porte des champs et pas de motif de retrait")
        if self.op == "remove" and (self.reason is None or self.fields is not None):
            raise ValueError("un retrait porte un motif et pas de champs")
        return self


class PullReply(_Model):
    changes: Annotated[list[Change], Field(max_length=MAX_PULL_LIMIT)]
    next_cursor: Cursor
    has_more: bool
    reset_required: bool = False
    phase: Phase
    snapshot_done: bool = False
    """True on the page that ends a full download: rows not received since cursor "0" are no
    longer visible to the agent and must be removed from the device (outbox edits excepted)."""
    head_seq: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _consistent(self) -> PullReply:
        if self.reset_required and (self.changes or self.has_more):
            raise ValueError("une demande de remise à zéro ne porte aucune modification")
        return self


# -- administration (coordinators and administrators) -------------------------------------------


class AgentCreate(_Model):
    login: Annotated[str, Field(pattern=r"^[a-z0-9._-]{2,100}$")]
    password: Annotated[Text, Field(min_length=10, max_length=256)]
    display_name: Annotated[Text, Field(min_length=1, max_length=200)]
    role: Role
    territory_ids: Annotated[list[TerritoryId], Field(min_length=1, max_length=10)]
    work_phone: Phone | None = None
    # None: the role's default (coordinators have the register right, others not).
    register_right: bool | None = None


class AgentUpdate(_Model):
    display_name: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    role: Role | None = None
    territory_ids: Annotated[list[TerritoryId], Field(min_length=1, max_length=10)] | None = None
    work_phone: Phone | None = None
    disabled: bool | None = None
    register_right: bool | None = None


class AgentOut(_Model):
    id: Uuid
    login: Annotated[Text, Field(max_length=100)] | None
    display_name: ShortText
    role: Role
    territory_ids: list[TerritoryId]
    work_phone: Phone | None = None
    disabled: bool
    register_right: bool = False


class DeviceOut(_Model):
    device_id: DeviceId
    agent_id: Uuid
    login: Annotated[Text, Field(max_length=100)]
    label: Annotated[Text, Field(max_length=100)]
    client_version: Annotated[Text, Field(max_length=20)] | None
    created_at_ms: int
    last_seen_at_ms: int | None
    revoked_at_ms: int | None
    last_sync_at_ms: int | None = None
    """The device's last contact: sign-in, push or pull (a pull that brings nothing is noted
    once an hour)."""


class PasswordReset(_Model):
    """A new password chosen by the server, given once to whoever reset it."""

    password: Annotated[Text, Field(min_length=10, max_length=256)]


CatalogueRow = Annotated[dict[str, JsonValue], Field(max_length=MAX_FIELDS_PER_ROW)]


class CatalogueImport(_Model):
    facilities: Annotated[
        list[CatalogueRow],
        Field(max_length=5000, json_schema_extra=_document_rows("facilities")),
    ] = []
    actions: Annotated[
        list[CatalogueRow], Field(max_length=5000, json_schema_extra=_document_rows("actions"))
    ] = []


class CatalogueImportReply(_Model):
    facilities: int
    actions: int


CATALOGUE_TABLE_PATTERN = r"^(actions|facilities|temporary_changes)$"
"""The catalogue tables coordinators edit online (``PUT /api/v1/catalogue/{table}/{id}``)."""


class CatalogueChange(_Model):
    """Create or change one row of the catalogue: the given fields (an empty one is cleared),
    checked against the contract, then as a whole row."""

    values: CatalogueRow


class CatalogueRowOut(RootModel[CatalogueRow]):
    """One catalogue row as the server stored it (the reply to a change)."""


class SheetCells(_Model):
    line: Annotated[int, Field(ge=1, le=1_000_000)]
    cells: Annotated[list[Annotated[str, Field(max_length=20_000)]], Field(max_length=60)]


class SheetProblem(_Model):
    line: Annotated[int, Field(ge=0, le=1_000_000)]
    column: Annotated[str, Field(max_length=300)]
    message: Annotated[str, Field(max_length=1000)]


class CatalogueSheet(_Model):
    """The City's spreadsheet as read on the device (cells as text, with their line numbers and
    the problems of its shape): previewed (``apply`` false) or imported (all or nothing)."""

    columns: Annotated[list[Annotated[str, Field(max_length=300)]], Field(max_length=60)]
    rows: Annotated[list[SheetCells], Field(max_length=5000)]
    problems: Annotated[list[SheetProblem], Field(max_length=5000)] = []
    header_line: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    apply: bool = False


class SheetItem(_Model):
    line: int
    code: str
    title: str
    outcome: Annotated[str, Field(pattern=r"^(created|changed|unchanged)$")]
    fields: list[str] = []


class CatalogueSheetReport(_Model):
    """What an import would do (or did): every line's outcome, or every problem."""

    created: int
    changed: int
    unchanged: int
    items: list[SheetItem]
    problems: list[SheetProblem]
    ignored_columns: list[str] = []
    applied: bool


CityDetailsRow = Annotated[dict[str, JsonValue], Field(max_length=MAX_FIELDS_PER_ROW)]
"""One row of the City's details as the server holds it (contract table ``city_details``)."""
CITY_ROW_ID_PATTERN = r"^[a-z0-9-]{1,40}$"


class CityDetailsUpdate(_Model):
    """A change of the City's details: the given fields of one row (an empty one is cleared);
    each is checked against the contract (``city_details``), then the row as a whole."""

    values: CityDetailsRow


class CityDetailsOut(RootModel[CityDetailsRow]):
    """One row of the City's details as the server stored it (the reply to a change)."""


class StreetsImport(_Model):
    """The City's street file (CSV text, see ``havre_common.streets``): replaces the table."""

    csv: Annotated[str, Field(min_length=1, max_length=4_000_000)]
    sample: bool = False


class StreetsImportReply(_Model):
    added: int
    changed: int
    unchanged: int
    removed: int


class EraseRequest(_Model):
    reason: Annotated[str, Field(pattern=r"^[a-z-]{1,40}$")] = "demande-personne"


class EraseReply(_Model):
    person_id: Uuid
    removed: dict[str, int]
    audit_id: Uuid


IsoDate = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
MAX_RETENTION_BATCH = 5000
"""Files one retention request may anonymise (a coordinator confirms a list, page by page)."""


class RetentionCandidate(_Model):
    """A person's file past its retention period, with nothing keeping it active: ids, her
    territory, the date of her last contact and her rows per table (names stay on devices)."""

    person_id: Uuid
    territory_id: TerritoryId
    last_contact: IsoDate
    rows: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,60}$")], int]


class RetentionList(_Model):
    """Files whose last contact is before ``cutoff`` (``months`` ago) and that nothing keeps
    active (the contract's rules, named in ``rules``), oldest contact first."""

    months: Annotated[int, Field(ge=1, le=1200)]
    cutoff: IsoDate
    rules: list[ShortText]
    candidates: list[RetentionCandidate]


class RetentionApply(_Model):
    person_ids: Annotated[list[Uuid], Field(min_length=1, max_length=MAX_RETENTION_BATCH)]


class RetentionSkipped(_Model):
    person_id: Uuid
    reason: French


class RetentionReply(_Model):
    """Files anonymised now; those asked for that are not (anymore) due, with the reason."""

    anonymised: list[Uuid]
    skipped: list[RetentionSkipped]
    audit_ids: list[Uuid]


class AuditEntryOut(_Model):
    """One entry of the server's audit log: who did what to which file, when, from which
    device (ids, codes and counts only)."""

    id: Uuid
    seq: Annotated[int, Field(ge=1)]
    at: Annotated[Text, Field(max_length=40)]
    agent_id: Uuid | None
    agent_name: ShortText | None
    device_id: Annotated[Text, Field(max_length=64)] | None
    event: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,59}$")]
    entity: Annotated[Text, Field(max_length=60)] | None
    entity_id: Annotated[Text, Field(max_length=100)] | None
    detail: dict[str, JsonValue]


class AuditPage(_Model):
    """Entries newest first; ``next_before``: ask ``before=`` it for the older ones (None: no
    more)."""

    entries: Annotated[list[AuditEntryOut], Field(max_length=500)]
    next_before: int | None


class SubjectAccessSection(_Model):
    table: Annotated[str, Field(pattern=r"^[a-z_]{1,60}$")]
    libelle: ShortText
    lignes: list[dict[str, JsonValue]]


class SubjectAccessReply(_Model):
    """Everything the server holds about one person (RGPD art. 15; see
    ``havre_common.subject_access``)."""

    format: Annotated[str, Field(max_length=100)]
    produit_le: Annotated[Text, Field(max_length=40)]
    personne_id: Uuid
    sections: Annotated[list[SubjectAccessSection], Field(max_length=100)]


# -- alert campaigns (issue 14: the alert plan's call lists) ---------------------------------------

CampaignKind = Literal["canicule", "grand-froid", "autre"]
AlertLevel = Literal["jaune", "orange", "rouge"]
MAX_CAMPAIGN_AGENTS = 200


class CampaignStart(_Model):
    """A coordinator starts a campaign: the server builds the call lists of the persons on the
    register (live enrolments) living in ``territory_ids``, split among ``agent_ids``."""

    kind: CampaignKind
    level: AlertLevel
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    territory_ids: Annotated[list[TerritoryId], Field(min_length=1, max_length=10)]
    agent_ids: Annotated[list[Uuid], Field(min_length=1, max_length=MAX_CAMPAIGN_AGENTS)]
    starts_on: IsoDate
    expected_end_on: IsoDate | None = None
    retry_delay_min: Annotated[int, Field(ge=5, le=1440)] = 60
    failed_calls_before_emergency: Annotated[int, Field(ge=1, le=10)] = 2


class CampaignList(_Model):
    """One agent's call list: how many persons are on it."""

    agent_id: Uuid
    calls: Annotated[int, Field(ge=0)]


class CampaignStarted(_Model):
    campaign_id: Uuid
    persons: Annotated[int, Field(ge=0)]
    lists: list[CampaignList]
    audit_id: Uuid


class CampaignPerson(_Model):
    """A person of a campaign as the coordinator's progress lists her (ids: names stay on the
    devices), with the next step of her calls."""

    call_id: Uuid
    person_id: Uuid
    territory_id: TerritoryId
    agent_id: Uuid
    step: Annotated[str, Field(pattern=r"^[a-z-]{1,40}$")]
    label: French
    failed_calls: Annotated[int, Field(ge=0)]
    urgent: bool
    outcome: Annotated[str, Field(pattern=r"^[a-z-]{1,40}$")] | None = None
    called_by: list[Uuid] = []


class CampaignTerritory(_Model):
    territory_id: TerritoryId
    persons: Annotated[int, Field(ge=0)]
    reached: Annotated[int, Field(ge=0)]
    escalated: Annotated[int, Field(ge=0)]
    open: Annotated[int, Field(ge=0)]
    by_outcome: dict[Annotated[str, Field(pattern=r"^[a-z-]{1,40}$")], int]


class CampaignProgress(_Model):
    """Where a campaign stands now: by territory and outcome; who is not reached yet; who the
    coordinator must know about (escalations, hospitalised, deceased); who was called by two
    agents (after a reassignment)."""

    campaign_id: Uuid
    title: ShortText
    closed_on: IsoDate | None
    persons: Annotated[int, Field(ge=0)]
    reached: Annotated[int, Field(ge=0)]
    escalated: Annotated[int, Field(ge=0)]
    territories: list[CampaignTerritory]
    not_reached: list[CampaignPerson]
    for_coordinator: list[CampaignPerson]
    called_twice: list[CampaignPerson]


class CampaignReassign(_Model):
    """Move calls from an agent (unreachable) to another: ``call_ids`` (None: every call of
    ``from_agent_id`` still open). The former holder keeps them, marked reassigned."""

    from_agent_id: Uuid
    to_agent_id: Uuid
    call_ids: Annotated[list[Uuid], Field(min_length=1, max_length=10_000)] | None = None


class CampaignReassigned(_Model):
    moved: Annotated[int, Field(ge=0)]
    audit_id: Uuid


class CampaignClose(_Model):
    closed_on: IsoDate | None = None


class CampaignClosed(_Model):
    campaign_id: Uuid
    closed_on: IsoDate
    persons: Annotated[int, Field(ge=0)]
    reached: Annotated[int, Field(ge=0)]
    escalated: Annotated[int, Field(ge=0)]
    audit_id: Uuid


class CampaignDay(_Model):
    """The figures of one day of a campaign (what the préfet may ask for)."""

    day: IsoDate
    calls: Annotated[int, Field(ge=0)]
    persons_called: Annotated[int, Field(ge=0)]
    reached: Annotated[int, Field(ge=0)]
    no_answer: Annotated[int, Field(ge=0)]
    emergency_contact_calls: Annotated[int, Field(ge=0)]
    home_visits: Annotated[int, Field(ge=0)]
    needs_help: Annotated[int, Field(ge=0)]
    hospitalised: Annotated[int, Field(ge=0)]
    deceased: Annotated[int, Field(ge=0)]
    urgent: Annotated[int, Field(ge=0)]
    escalations: Annotated[int, Field(ge=0)]
    not_reached_at_end_of_day: Annotated[int, Field(ge=0)]


class CampaignDaily(_Model):
    campaign_id: Uuid
    persons: Annotated[int, Field(ge=0)]
    days: list[CampaignDay]
