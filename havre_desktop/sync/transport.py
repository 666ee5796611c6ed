"""HTTP to the City's server: TLS verified, bounded replies checked against the protocol.

* TLS is always verified: the system's trust store (certifi's, through httpx), or a CA bundle
  file given by the City for its own certificates. Plain ``http://`` is accepted for loopback
  addresses only (tests, a server on the same machine).
* Request bodies of a push are gzip-compressed; replies may be (httpx inflates them). A reply
  larger than its bound is refused before it is parsed, so a hostile server cannot exhaust
  memory.
* Every reply is parsed with the shared protocol models (strict types, unknown keys refused);
  anything else raises :class:`ProtocolError` and nothing is applied.
* Errors become the French exceptions of :mod:`havre_desktop.sync.errors`. A revoked device
  (410 with ``wipe: true``) raises :class:`RevokedByServer`, which the engine turns into a wipe.
* The token lives in the OS keyring (:class:`TokenStore`), never in a file.
"""

from __future__ import annotations

import gzip
import ipaddress
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, RootModel, ValidationError

from havre_common.protocol import (
    API_PREFIX,
    CLIENT_VERSION_HEADER,
    AgentCreate,
    AgentOut,
    AgentUpdate,
    AuditPage,
    CampaignClose,
    CampaignClosed,
    CampaignDaily,
    CampaignProgress,
    CampaignReassign,
    CampaignReassigned,
    CampaignStart,
    CampaignStarted,
    CatalogueChange,
    CatalogueRowOut,
    CatalogueSheet,
    CatalogueSheetReport,
    CityDetailsOut,
    CityDetailsUpdate,
    DeviceOut,
    EraseReply,
    EraseRequest,
    ErrorBody,
    LoginReply,
    LoginRequest,
    MetaReply,
    PasswordReset,
    PullReply,
    PushReply,
    PushRequest,
    RetentionApply,
    RetentionList,
    RetentionReply,
    SubjectAccessReply,
)
from havre_desktop import KEYRING_SERVICE
from havre_desktop.core.errors import KeyringUnavailableError
from havre_desktop.core.keys import KeyringLike
from havre_desktop.sync.errors import (
    AccountDisabledError,
    BadCredentialsError,
    CertificateError,
    ClientTooOldError,
    ClockSkewError,
    ProtocolError,
    RequestRefusedError,
    ServerBusyError,
    ServerUnreachableError,
    SignInRequiredError,
    SyncError,
    TokenExpiredError,
    TooManyAttemptsError,
)

log = logging.getLogger("havre.sync")

M = TypeVar("M", bound=BaseModel)
HttpWrap = Callable[[httpx.BaseTransport], httpx.BaseTransport]
"""Wraps the real HTTP transport (tests inject faults this way)."""

MAX_PULL_REPLY_BYTES = 48 * 1024 * 1024
"""A pull page of DEFAULT_PULL_LIMIT changes at the protocol's row limit, plus overhead."""
MAX_REPLY_BYTES = 4 * 1024 * 1024
"""Every other reply (session, meta, push results, errors)."""
GZIP_MIN_BYTES = 1024
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
LOOPBACK_NAMES = frozenset({"localhost"})


class RevokedByServer(Exception):
    """The server answered 410 ``device_revoked`` with ``wipe: true`` (handled by the engine)."""


def normalise_server_url(text: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; refused when unusable."""
    url = text.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError(
            "Adresse du serveur invalide : elle doit ressembler à https://sync.lehavre.fr."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SyncError("Adresse du serveur invalide : indiquez seulement https://nom-du-serveur.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SyncError(
            "L'adresse du serveur doit commencer par https:// : les données ne circulent "
            "que chiffrées."
        )
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_certificate_problem(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe_validation(exc: ValidationError) -> str:
    """A short, French-framed summary of why a reply was refused (no values echoed)."""
    errors = exc.errors()
    if not errors:
        return "réponse non conforme au protocole"
    where = ".".join(str(p) for p in errors[0]["loc"]) or "réponse"
    return f"champ « {where[:80]} » non conforme au protocole, {len(errors)} erreur(s)"


@dataclass
class TokenStore:
    """The device token in the OS keyring: service ``havre-desktop``, ``token:<profile id>``."""

    backend: KeyringLike
    profile_id: str
    service: str = KEYRING_SERVICE

    @property
    def username(self) -> str:
        return f"token:{self.profile_id}"

    def load(self) -> str | None:
        try:
            return self.backend.get_password(self.service, self.username)
        except Exception as exc:
            raise KeyringUnavailableError(
                "Le trousseau du système ne répond pas (est-il verrouillé ?) : la session de "
                "synchronisation ne peut pas être lue. Déverrouillez votre session puis "
                "réessayez."
            ) from exc

    def save(self, token: str) -> None:
        try:
            self.backend.set_password(self.service, self.username, token)
        except Exception as exc:
            raise KeyringUnavailableError(
                "La session de synchronisation n'a pas pu être enregistrée dans le trousseau du "
                "système : la connexion n'est pas mémorisée."
            ) from exc

    def delete(self) -> None:
        try:
            self.backend.delete_password(self.service, self.username)
        except Exception:  # already absent: nothing to delete
            log.debug("no token to delete from the keyring")


class Transport:
    """One server, one httpx client; every method returns a validated protocol model."""

    def __init__(
        self,
        base_url: str,
        *,
        client_version: str,
        ca_bundle: Path | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        wrap: HttpWrap | None = None,
    ) -> None:
        self.base_url = normalise_server_url(base_url)
        # The computer's own certificate store (Windows' store, /etc/ssl/certs on Debian…),
        # where the City's IT installs the City's certificate authority, rather than the
        # authorities bundled with httpx; `ca_bundle` adds one more file of authorities.
        verify = ssl.create_default_context()
        if ca_bundle is not None:
            try:
                verify.load_verify_locations(cafile=str(ca_bundle))
            except (OSError, ssl.SSLError) as exc:
                raise SyncError(
                    f"Le fichier de certificats « {ca_bundle} » est introuvable ou illisible : "
                    "vérifiez le réglage du serveur de synchronisation."
                ) from exc
        inner: httpx.BaseTransport = httpx.HTTPTransport(verify=verify, retries=0)
        self._client = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            transport=wrap(inner) if wrap else inner,
            timeout=timeout,
            follow_redirects=False,
            headers={
                "User-Agent": f"havre-desktop/{client_version}",
                CLIENT_VERSION_HEADER: client_version,
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- endpoints ------------------------------------------------------------------------

    def login(self, request: LoginRequest) -> LoginReply:
        return self._call("POST", "/session", LoginReply, body=request)

    def logout(self, token: str) -> None:
        self._call("DELETE", "/session", None, token=token)

    def meta(self) -> MetaReply:
        return self._call("GET", "/sync/meta", MetaReply)

    def push(self, token: str, request: PushRequest) -> PushReply:
        return self._call("POST", "/sync/push", PushReply, body=request, token=token)

    def pull(self, token: str, cursor: str, limit: int) -> PullReply:
        return self._call(
            "GET",
            "/sync/pull",
            PullReply,
            token=token,
            params={"cursor": cursor, "limit": str(limit)},
            max_bytes=MAX_PULL_REPLY_BYTES,
        )

    def audit(self, token: str, filters: dict[str, str]) -> AuditPage:
        """The server's audit log as a coordinator may read it (newest first, filtered)."""
        return self._call("GET", "/admin/audit", AuditPage, token=token, params=filters)

    def subject_access(self, token: str, person_id: str) -> SubjectAccessReply:
        """Everything the server holds about one person (RGPD art. 15), for a coordinator."""
        return self._call(
            "GET",
            f"/admin/persons/{person_id}/access",
            SubjectAccessReply,
            token=token,
            max_bytes=MAX_PULL_REPLY_BYTES,
        )

    def erase_person(self, token: str, person_id: str, reason: str) -> EraseReply:
        """RGPD erasure (coordinators of her territory, administrators): always wins."""
        return self._call(
            "POST",
            f"/admin/persons/{person_id}/erase",
            EraseReply,
            body=EraseRequest(reason=reason),
            token=token,
        )

    # -- the team and the devices (coordinators, administrators) --------------------------

    def list_agents(self, token: str) -> list[AgentOut]:
        return self._call("GET", "/admin/agents", _AgentList, token=token).root

    def create_agent(self, token: str, request: AgentCreate) -> AgentOut:
        return self._call("POST", "/admin/agents", AgentOut, body=request, token=token)

    def update_agent(self, token: str, agent_id: str, request: AgentUpdate) -> AgentOut:
        return self._call("PATCH", f"/admin/agents/{agent_id}", AgentOut, body=request, token=token)

    def reset_password(self, token: str, agent_id: str) -> PasswordReset:
        return self._call("POST", f"/admin/agents/{agent_id}/password", PasswordReset, token=token)

    def list_devices(self, token: str) -> list[DeviceOut]:
        return self._call("GET", "/admin/devices", _DeviceList, token=token).root

    def revoke_device(self, token: str, device_id: str) -> None:
        self._call("POST", f"/admin/devices/{device_id}/revoke", None, token=token)

    def set_city_details(
        self, token: str, row_id: str, values: dict[str, object]
    ) -> CityDetailsOut:
        """Change one row of the City's details (coordinators and administrators)."""
        return self._call(
            "PUT",
            f"/admin/city-details/{row_id}",
            CityDetailsOut,
            body=CityDetailsUpdate.model_validate({"values": values}),
            token=token,
        )

    def save_catalogue_row(
        self, token: str, table: str, row_id: str, values: dict[str, object]
    ) -> CatalogueRowOut:
        """Create or change an action, a facility or a temporary change (coordinators)."""
        return self._call(
            "PUT",
            f"/catalogue/{table}/{row_id}",
            CatalogueRowOut,
            body=CatalogueChange.model_validate({"values": values}),
            token=token,
        )

    def import_catalogue_sheet(self, token: str, sheet: CatalogueSheet) -> CatalogueSheetReport:
        """Preview or import the City's spreadsheet (read on this device)."""
        return self._call(
            "POST",
            "/admin/catalogue/sheet",
            CatalogueSheetReport,
            body=sheet,
            token=token,
            max_bytes=MAX_PULL_REPLY_BYTES,
        )

    def retention_due(self, token: str) -> RetentionList:
        """Files past their retention period that nothing keeps active (coordinators)."""
        return self._call(
            "GET", "/admin/retention", RetentionList, token=token, max_bytes=MAX_PULL_REPLY_BYTES
        )

    def retention_anonymise(self, token: str, person_ids: list[str]) -> RetentionReply:
        """Anonymise the files confirmed (the server checks each is still due)."""
        return self._call(
            "POST",
            "/admin/retention/anonymise",
            RetentionReply,
            body=RetentionApply(person_ids=person_ids),
            token=token,
        )

    # -- alert campaigns (coordinators and administrators with the register right) -------

    def start_campaign(self, token: str, request: CampaignStart) -> CampaignStarted:
        """Start a campaign: the server builds the call lists (they come back by pull)."""
        return self._call("POST", "/campaigns", CampaignStarted, body=request, token=token)

    def campaign_progress(self, token: str, campaign_id: str) -> CampaignProgress:
        """Where a campaign stands on the server now (every device's outcomes received)."""
        return self._call(
            "GET",
            f"/campaigns/{campaign_id}/progress",
            CampaignProgress,
            token=token,
            max_bytes=MAX_PULL_REPLY_BYTES,
        )

    def reassign_calls(
        self, token: str, campaign_id: str, request: CampaignReassign
    ) -> CampaignReassigned:
        return self._call(
            "POST",
            f"/campaigns/{campaign_id}/reassign",
            CampaignReassigned,
            body=request,
            token=token,
        )

    def close_campaign(
        self, token: str, campaign_id: str, request: CampaignClose
    ) -> CampaignClosed:
        return self._call(
            "POST", f"/campaigns/{campaign_id}/close", CampaignClosed, body=request, token=token
        )

    def campaign_daily_figures(self, token: str, campaign_id: str) -> CampaignDaily:
        """The campaign's figures day by day (what the préfet may ask for)."""
        return self._call("GET", f"/campaigns/{campaign_id}/daily", CampaignDaily, token=token)

    # -- plumbing -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        model: type[M] | None,
        *,
        body: BaseModel | None = None,
        token: str | None = None,
        params: dict[str, str] | None = None,
        max_bytes: int = MAX_REPLY_BYTES,
    ) -> M:
        headers: dict[str, str] = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        content: bytes | None = None
        if body is not None:
            content = body.model_dump_json().encode("utf-8")
            headers["Content-Type"] = "application/json"
            if len(content) >= GZIP_MIN_BYTES:
                content = gzip.compress(content, compresslevel=6)
                headers["Content-Encoding"] = "gzip"
        try:
            with self._client.stream(
                method, path, content=content, headers=headers, params=params
            ) as response:
                status = response.status_code
                data = _read_bounded(response, max_bytes)
        except httpx.DecodingError as exc:
            raise ProtocolError("réponse compressée illisible") from exc
        except httpx.ConnectError as exc:
            if _is_certificate_problem(exc):
                log.warning("server certificate not trusted")
                raise CertificateError() from exc
            log.info("server unreachable: %s", type(exc).__name__)
            raise ServerUnreachableError() from exc
        except httpx.HTTPError as exc:
            # timeouts, resets, a body cut midway (RemoteProtocolError)…
            log.info("connection failed during %s %s: %s", method, path, type(exc).__name__)
            raise ServerUnreachableError() from exc
        if status >= 400 or status not in (200, 201, 204):
            raise _error_for(status, data)
        if model is None:
            return None  # type: ignore[return-value]
        try:
            return model.model_validate_json(data)
        except ValidationError as exc:
            log.warning("invalid %s reply refused: %s", path, describe_validation(exc))
            raise ProtocolError(describe_validation(exc)) from None


class _AgentList(RootModel[list[AgentOut]]):
    """The reply of GET /admin/agents."""


class _DeviceList(RootModel[list[DeviceOut]]):
    """The reply of GET /admin/devices."""


def _read_bounded(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ProtocolError(f"réponse trop volumineuse (plus de {max_bytes // (1024 * 1024)} Mio)")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ProtocolError(
                f"réponse trop volumineuse (plus de {max_bytes // (1024 * 1024)} Mio)"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _error_for(status: int, data: bytes) -> Exception:
    body: ErrorBody | None
    try:
        body = ErrorBody.model_validate_json(data)
    except ValidationError:
        body = None
    code = body.code if body is not None else ""
    if status == 410 and body is not None and code == "device_revoked" and body.wipe:
        return RevokedByServer()
    simple: dict[str, Callable[[], SyncError]] = {
        "bad_credentials": BadCredentialsError,
        "account_disabled": AccountDisabledError,
        "token_expired": TokenExpiredError,
        "too_many_attempts": TooManyAttemptsError,
        "clock_skew": ClockSkewError,
    }
    if code in simple:
        return simple[code]()
    if code == "client_too_old" or status == 426:
        return ClientTooOldError()
    if code in ("invalid_token", "missing_token") or status == 401:
        return SignInRequiredError()
    if code == "busy" or status in (502, 503, 504):
        return ServerBusyError()
    if status >= 500:
        return ServerBusyError()
    message = (
        body.message if body is not None else f"Le serveur a refusé la demande (code {status})."
    )
    details = list(body.details) if body is not None else []
    return RequestRefusedError(message, status, code, details)
