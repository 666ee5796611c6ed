"""The sync engine: sign-in, sign-out, one sync (meta → push → pull), conflict resolution.

Qt-free; the UI runs :meth:`SyncEngine.sync` off the GUI thread, on the thread that owns the
workspace's connection, and shows :class:`SyncProgress` and :meth:`SyncEngine.status`.

Order of a sync (sync.md): ``GET /sync/meta`` (versions and clocks checked first: nothing is
sent when the clock is wrong by more than 5 minutes or the application is too old) → push the
outbox in bounded batches until it is empty → push the audit entries → pull page by page, each
page and its cursor applied in one local transaction. Network calls never happen inside a
local transaction; a sync interrupted anywhere resumes where it stopped.

Outcome of each edit sent (``MutationResult``):

* ``applied`` / ``conflict`` (and ``duplicate`` of those): the outbox entry is deleted. Rows
  this agent will never receive back (reception encounters, a follow-up assigned to a
  colleague, a reception agent's handouts) leave the device then. The version the server gave
  the row is kept apart (``sync_acked``), never as the row's ``server_version``: what the
  device has seen is what it pulled (sync.md), and the server may have applied the edit on top
  of changes still to be pulled. A later edit's base version therefore never hides them.
* ``rejected`` (and ``duplicate`` of a rejection): the entry moves to ``sync_rejections`` with
  the server's French reason and the values typed: visible until the agent dismisses it, never
  counted as waiting, never blocking the others. The device's copy of the row may now differ
  from the server's, so once the incremental pull of this sync is complete (it applies
  removals and erasures), a full download (cursor ``"0"``) follows, which is authoritative and
  restores the server's version (the outbox is kept). The need for it is stored, so an
  interrupted sync still does it next time.
* An entry the server cannot even read (``422`` for the batch) is isolated by sending the
  batch one entry at a time, and rejected alone with the server's explanation.
"""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import JsonValue, ValidationError

from havre_common import contract
from havre_common.catalogue_sheet import RawSheet
from havre_common.french import count
from havre_common.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_CLOCK_SKEW_MS,
    MAX_PUSH_BATCH,
    PROTOCOL_VERSION,
    AgentCreate,
    AgentInfo,
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
    CatalogueSheet,
    CatalogueSheetReport,
    DeviceOut,
    EraseReply,
    LoginRequest,
    MetaReply,
    Mutation,
    MutationResult,
    PasswordReset,
    PullReply,
    PushReply,
    PushRequest,
    RetentionList,
    RetentionReply,
    SubjectAccessReply,
    version_tuple,
)
from havre_desktop import __version__
from havre_desktop.core import agents, contacts
from havre_desktop.core.errors import HavreError, KeyringUnavailableError, NotFoundError
from havre_desktop.core.keys import KeyringLike
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.sync import local
from havre_desktop.sync.apply import PageApplier
from havre_desktop.sync.errors import (
    ClientTooOldError,
    ClockSkewError,
    DeviceRevokedError,
    NotSignedInError,
    ProfileBoundError,
    ProtocolError,
    RequestRefusedError,
    ServerUnreachableError,
    SignInRequiredError,
    SyncCancelledError,
    SyncError,
)
from havre_desktop.sync.transport import (
    DEFAULT_TIMEOUT,
    HttpWrap,
    RevokedByServer,
    TokenStore,
    Transport,
    normalise_server_url,
)

log = logging.getLogger("havre.sync")
T = TypeVar("T")

# Rows whose pulled states are skipped when older than an acknowledgement (see apply.py);
# conflicts are resolved through their own rule, reference data is never pushed.
ACK_TRACKED_TABLES = local.PULLED_TABLES - {"conflicts", *local.REF_TABLES}
MAX_RESETS_PER_SYNC = 3
FULL_DOWNLOAD_DUE = local.FULL_DOWNLOAD_DUE
MAX_PAGES_PER_SYNC = 100_000
RECEPTION_CONSENT_REASON = (
    "Votre rôle ne permet d'enregistrer que le consentement au registre : ce consentement n'a "
    "pas été envoyé au serveur."
)


@dataclass(frozen=True)
class SyncProgress:
    """``phase``: ``connexion``, ``envoi``, ``réception`` or ``terminé``; ``total`` may be
    unknown (None) while receiving a full download."""

    phase: str
    done: int
    total: int | None
    message: str


ProgressCallback = Callable[[SyncProgress], None]
CancelCheck = Callable[[], bool]


@dataclass
class SyncReport:
    pushed: int = 0
    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    duplicates: int = 0
    audit_sent: int = 0
    received: int = 0
    removed: int = 0
    pages: int = 0
    resets: int = 0
    full_download: bool = False
    notices: list[str] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)  # tables whose local rows the pull changed

    def counts(self) -> dict[str, int]:
        return {
            "pushed": self.pushed,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "received": self.received,
            "removed": self.removed,
        }

    def summary(self) -> str:
        parts = [count(self.pushed, "{n} modification envoyée", "{n} modifications envoyées")]
        if self.conflicts:
            parts.append(count(self.conflicts, "{n} conflit à examiner", "{n} conflits à examiner"))
        if self.rejected:
            parts.append(count(self.rejected, "{n} refusée", "{n} refusées"))
        if self.notices:
            parts.append(count(len(self.notices), "{n} signalée", "{n} signalées"))
        parts.append(count(self.received, "{n} élément reçu", "{n} éléments reçus"))
        if self.removed:
            parts.append(
                count(self.removed, "{n} retiré de cet ordinateur", "{n} retirés de cet ordinateur")
            )
        return "Synchronisation terminée : " + ", ".join(parts) + "."


class SyncEngine:
    """Sync of one profile (one workspace) with the City's server."""

    def __init__(
        self,
        ws: Workspace,
        *,
        profile_id: str,
        keyring: KeyringLike,
        ca_bundle: Path | None = None,
        http_wrap: HttpWrap | None = None,
        client_version: str = __version__,
        device_label: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        pull_limit: int = DEFAULT_PULL_LIMIT,
        push_batch: int = MAX_PUSH_BATCH,
    ) -> None:
        self.ws = ws
        self.tokens = TokenStore(keyring, profile_id)
        self.ca_bundle = ca_bundle
        self.http_wrap = http_wrap
        self.client_version = client_version
        self.device_label = (device_label or platform.node() or "Poste Havre Ensemble")[:100]
        self.timeout = timeout
        self.pull_limit = pull_limit
        self.push_batch = max(1, min(push_batch, MAX_PUSH_BATCH))

    # -- helpers ----------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        return self.ws.store

    def _transport(self, url: str) -> Transport:
        return Transport(
            url,
            client_version=self.client_version,
            ca_bundle=self.ca_bundle,
            timeout=self.timeout,
            wrap=self.http_wrap,
        )

    def _now(self) -> str:
        return self.ws.clock.now_iso()

    @staticmethod
    def _check_cancel(stop: CancelCheck) -> None:
        if stop():
            raise SyncCancelledError()

    # -- session ----------------------------------------------------------------------------

    def sign_in(self, server_url: str, username: str, password: str) -> AgentInfo:
        """Open a session for this device and bind the profile to the account (first time)."""
        url = normalise_server_url(server_url)
        started = self._now()
        try:
            request = LoginRequest(
                login=username.strip(),
                password=password,
                device_id=self.ws.device_id,
                device_label=self.device_label,
                client_version=self.client_version,
            )
        except ValidationError:
            raise SyncError(
                "Saisissez votre identifiant et votre mot de passe (256 caractères au plus)."
            ) from None
        with self._transport(url) as transport:
            try:
                reply = transport.login(request)
            except RevokedByServer:
                raise self._wiped(started) from None
            except ClientTooOldError as exc:
                if exc.minimum is not None:
                    raise
                raise ClientTooOldError(self._minimum_version(transport)) from None
            if reply.device_id != self.ws.device_id:
                self._close_session(transport, reply.token)
                raise ProtocolError("appareil inattendu dans la réponse de connexion")
            bound = local.get_meta(self.store, "bound_agent_id")
            if bound is not None and bound != reply.agent.id and local.holds_data(self.store):
                self._close_session(transport, reply.token)
                log.warning("sign-in refused: profile bound to another account")
                raise ProfileBoundError(local.get_meta(self.store, "account_login"))
            try:
                self.tokens.save(reply.token)
            except KeyringUnavailableError:
                self._close_session(transport, reply.token)
                raise
        changed_server = local.get_meta(self.store, "server_url") != url
        with self.store.transaction():
            agents.bind_to_server(self.ws, reply.agent.model_dump(), request.login)
            local.set_meta(self.store, "server_url", url)
            local.set_meta(self.store, "account_login", request.login)
            local.set_meta(self.store, "bound_agent_id", reply.agent.id)
            local.set_meta(self.store, "token_expires_at_ms", str(reply.expires_at_ms))
            if changed_server or bound != reply.agent.id:
                local.restart_full_download(self.store)
        log.info("signed in (agent %s, device %s)", reply.agent.id, self.ws.device_id)
        return reply.agent

    @staticmethod
    def _minimum_version(transport: Transport) -> str | None:
        """The version the server asks for (said in the message), when it tells."""
        try:
            return transport.meta().min_client_version
        except SyncError:
            return None

    def _close_session(self, transport: Transport, token: str) -> None:
        try:
            transport.logout(token)
        except (SyncError, RevokedByServer):
            log.info("could not close the session just opened")

    def sign_out(self) -> None:
        """Close this device's session; the data and the outbox stay (never a wipe)."""
        token = self._load_token()
        url = local.get_meta(self.store, "server_url")
        if token and url:
            try:
                with self._transport(url) as transport:
                    transport.logout(token)
            except RevokedByServer:
                raise self._wiped(self._now()) from None
            except SyncError as exc:
                log.info("sign-out: server not told (%s)", exc.code)
        self.tokens.delete()
        local.set_meta(self.store, "token_expires_at_ms", None)

    def _load_token(self) -> str | None:
        try:
            return self.tokens.load()
        except KeyringUnavailableError:
            return None

    # -- the server's audit log (coordinators, online) ------------------------------------------

    def audit_entries(self, filters: dict[str, str]) -> AuditPage:
        """One page of the server's audit log (``entity_id``, ``agent_id``, ``event``,
        ``since``, ``until``, ``before``, ``limit``); read online, never stored on the device."""
        wanted = {k: v for k, v in filters.items() if v}
        return self._online(lambda transport, token: transport.audit(token, wanted))

    def subject_access(self, person_id: str) -> SubjectAccessReply:
        """Everything the server holds about one person (RGPD art. 15); the server audits it."""
        return self._online(lambda transport, token: transport.subject_access(token, person_id))

    def erase_person(self, person_id: str, reason: str = "demande-personne") -> EraseReply:
        """Erase a person on the server (RGPD); her rows leave this device at the next sync."""
        return self._online(
            lambda transport, token: transport.erase_person(token, person_id, reason)
        )

    # -- the team and the devices (coordinators, administrators, online) ---------------------

    def list_agents(self) -> list[AgentOut]:
        """The agents this account may see (a coordinator: those of their territories)."""
        return self._online(lambda transport, token: transport.list_agents(token))

    def create_agent(self, request: AgentCreate) -> AgentOut:
        return self._online(lambda transport, token: transport.create_agent(token, request))

    def update_agent(self, agent_id: str, request: AgentUpdate) -> AgentOut:
        """Role, territories, name, phone, or the account disabled/enabled again."""
        return self._online(
            lambda transport, token: transport.update_agent(token, agent_id, request)
        )

    def reset_password(self, agent_id: str) -> PasswordReset:
        """A new password drawn by the server, to give to the agent (shown once)."""
        return self._online(lambda transport, token: transport.reset_password(token, agent_id))

    def list_devices(self) -> list[DeviceOut]:
        """The devices of the agents this account manages, with their last sync."""
        return self._online(lambda transport, token: transport.list_devices(token))

    def revoke_device(self, device_id: str) -> None:
        """A lost or stolen laptop: it wipes itself at its next contact with the server."""
        self._online(lambda transport, token: transport.revoke_device(token, device_id))

    def save_city_details(self, row_id: str, values: dict[str, object]) -> dict[str, object]:
        """Change the City's details on the server (coordinators, online); the row comes back
        to every device, this one included, at its next pull."""
        reply = self._online(
            lambda transport, token: transport.set_city_details(token, row_id, values)
        )
        return dict(reply.root)

    def save_catalogue_row(
        self, table: str, row_id: str, values: dict[str, object]
    ) -> dict[str, object]:
        """Create or change a catalogue row on the server (coordinators, online); it comes
        back to every device, this one included, at its next pull."""
        reply = self._online(
            lambda transport, token: transport.save_catalogue_row(token, table, row_id, values)
        )
        return dict(reply.root)

    def import_catalogue_sheet(self, sheet: RawSheet, *, apply: bool) -> CatalogueSheetReport:
        """Send the City's spreadsheet as read here: the server's preview, or its import."""
        request = CatalogueSheet.model_validate(
            {
                "columns": sheet.columns[:60],
                "rows": [{"line": n, "cells": cells[:60]} for n, cells in sheet.rows],
                "problems": [
                    {"line": p.line, "column": p.column[:300], "message": p.message[:1000]}
                    for p in sheet.problems
                ],
                "header_line": sheet.header_line,
                "apply": apply,
            }
        )
        return self._online(
            lambda transport, token: transport.import_catalogue_sheet(token, request)
        )

    def retention_due(self) -> RetentionList:
        """The files past their retention period the server lists for this coordinator."""
        return self._online(lambda transport, token: transport.retention_due(token))

    def retention_anonymise(self, person_ids: list[str]) -> RetentionReply:
        """Anonymise these files on the server; this device loses their identity at its next
        sync, every other device at theirs."""
        return self._online(
            lambda transport, token: transport.retention_anonymise(token, person_ids)
        )

    # -- alert campaigns (coordinators with the register right, online) -----------------------

    def start_campaign(self, request: CampaignStart) -> CampaignStarted:
        """Start a campaign on the server; its call lists reach the devices at their next
        sync (this one included)."""
        return self._online(lambda transport, token: transport.start_campaign(token, request))

    def campaign_progress(self, campaign_id: str) -> CampaignProgress:
        return self._online(
            lambda transport, token: transport.campaign_progress(token, campaign_id)
        )

    def reassign_calls(self, campaign_id: str, request: CampaignReassign) -> CampaignReassigned:
        return self._online(
            lambda transport, token: transport.reassign_calls(token, campaign_id, request)
        )

    def close_campaign(
        self, campaign_id: str, request: CampaignClose | None = None
    ) -> CampaignClosed:
        body = request or CampaignClose()
        return self._online(
            lambda transport, token: transport.close_campaign(token, campaign_id, body)
        )

    def campaign_daily_figures(self, campaign_id: str) -> CampaignDaily:
        return self._online(
            lambda transport, token: transport.campaign_daily_figures(token, campaign_id)
        )

    def _online(self, call: Callable[[Transport, str], T]) -> T:
        """One request with this device's session (coordinators' online reads)."""
        url = local.get_meta(self.store, "server_url")
        token = self._load_token()
        if not url or not token:
            raise NotSignedInError()
        try:
            with self._transport(url) as transport:
                return call(transport, token)
        except RevokedByServer:
            raise self._wiped(self._now()) from None

    # -- status -----------------------------------------------------------------------------

    def status(self) -> local.SyncStatus:
        return local.status(self.ws, signed_in=self._load_token() is not None)

    def dismiss_rejection(self, mutation_id: str) -> None:
        """The agent has read a rejected edit: it leaves the list."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE sync_rejections SET dismissed_at = ? WHERE mutation_id = ?",
                (self._now(), mutation_id),
            )

    def resolve(self, conflict_id: str, value: JsonValue) -> None:
        resolve_conflict(self.ws, conflict_id, value)

    # -- sync -------------------------------------------------------------------------------

    def sync(
        self, progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
    ) -> SyncReport:
        notify: ProgressCallback = progress or (lambda _p: None)
        stop: CancelCheck = cancelled or (lambda: False)
        started = self._now()
        report = SyncReport()
        try:
            url = local.get_meta(self.store, "server_url")
            token = self.tokens.load()
            if not url or not token:
                raise NotSignedInError()
            with self._transport(url) as transport:
                self._check_cancel(stop)
                notify(SyncProgress("connexion", 0, None, "Connexion au serveur…"))
                meta = self._meta(transport)
                self._push(transport, token, meta, report, notify, stop)
                self._push_audit(transport, token, meta, report, stop)
                self._pull(transport, token, report, notify, stop)
        except RevokedByServer:
            raise self._wiped(started) from None
        except SyncCancelledError as exc:
            self._history(started, "cancelled", report, exc.message)
            raise
        except SignInRequiredError as exc:
            if not isinstance(exc, NotSignedInError):
                self.tokens.delete()
            self._history(started, "error", report, exc.message)
            raise
        except HavreError as exc:
            self._history(started, "error", report, exc.message)
            raise
        except Exception:
            log.exception("sync failed (bug)")
            self._history(started, "error", report, "Erreur inattendue pendant la synchronisation.")
            raise
        local.set_meta(self.store, "last_success_at", self._now())
        self._history(started, "ok", report, report.summary())
        notify(SyncProgress("terminé", 1, 1, report.summary()))
        log.info(
            "sync done: pushed=%d conflicts=%d rejected=%d received=%d removed=%d pages=%d",
            report.pushed,
            report.conflicts,
            report.rejected,
            report.received,
            report.removed,
            report.pages,
        )
        return report

    def _history(self, started: str, outcome: str, report: SyncReport, message: str) -> None:
        try:
            local.record_history(
                self.store,
                started_at=started,
                finished_at=self._now(),
                outcome=outcome,
                counts=report.counts(),
                message=message,
            )
        except Exception:  # never hide the real outcome behind a bookkeeping failure
            log.exception("could not record the sync history")

    def _wiped(self, started: str) -> DeviceRevokedError:
        discarded = local.wipe(self.ws)
        self.tokens.delete()
        error = DeviceRevokedError(discarded)
        self._history(started, "wiped", SyncReport(), error.message)
        return error

    # -- meta -------------------------------------------------------------------------------

    def _meta(self, transport: Transport) -> MetaReply:
        before = self.ws.clock.millis()
        meta = transport.meta()
        after = self.ws.clock.millis()
        if meta.protocol_version > PROTOCOL_VERSION:
            raise ClientTooOldError(meta.min_client_version)
        if meta.protocol_version < PROTOCOL_VERSION:
            raise SyncError(
                "Le serveur utilise une version plus ancienne du protocole que cette application "
                ": prévenez le service informatique. Vos modifications sont conservées."
            )
        if version_tuple(self.client_version) < version_tuple(meta.min_client_version):
            raise ClientTooOldError(meta.min_client_version)
        skew = (before + after) // 2 - meta.server_time_ms
        if abs(skew) > MAX_CLOCK_SKEW_MS:
            log.warning("clock skew of %d s with the server: sync refused", skew // 1000)
            raise ClockSkewError(round(abs(skew) / 60000))
        local.set_meta(self.store, "server_schema_version", str(meta.schema_version))
        return meta

    # -- push -------------------------------------------------------------------------------

    def _push(
        self,
        transport: Transport,
        token: str,
        meta: MetaReply,
        report: SyncReport,
        notify: ProgressCallback,
        stop: CancelCheck,
    ) -> None:
        batch = max(1, min(self.push_batch, meta.max_push_batch))
        total = int(self.store.scalar("SELECT count(*) FROM outbox") or 0)
        done = 0
        one_by_one = 0  # entries still to send alone after the server could not read a batch
        while True:
            self._check_cancel(stop)
            size = 1 if one_by_one else batch
            entries = self.store.query("SELECT * FROM outbox ORDER BY seq LIMIT ?", (size,))
            if not entries:
                return
            ready, refused = self._prepare(entries)
            if refused:
                with self.store.transaction():
                    for entry, reason in refused:
                        local.reject_entry(self.store, entry, reason, self._now())
                    local.full_download_due(self.store)
                report.rejected += len(refused)
                done += len(refused)
                continue
            notify(
                SyncProgress("envoi", done, total, f"Envoi des modifications ({done} sur {total})…")
            )
            self._mark_attempt(ready, None)
            request = PushRequest(
                device_id=self.ws.device_id,
                client_time_ms=self.ws.clock.millis(),
                mutations=[m for _e, m in ready],
            )
            try:
                reply = transport.push(token, request)
            except RequestRefusedError as exc:
                if exc.status not in (413, 422):
                    raise
                if len(ready) > 1:
                    log.warning("push batch refused (%d): sending one entry at a time", exc.status)
                    one_by_one = len(ready)
                    continue
                reason = " ".join([exc.message, *exc.details])
                with self.store.transaction():
                    local.reject_entry(self.store, ready[0][0], reason, self._now())
                    local.full_download_due(self.store)
                report.rejected += 1
                one_by_one = max(0, one_by_one - 1)
                done += 1
                continue
            except ServerUnreachableError as exc:
                self._mark_attempt(ready, exc.message)
                raise
            self._acknowledge(ready, reply, report)
            done += len(ready)
            one_by_one = max(0, one_by_one - len(ready))

    def _prepare(
        self, entries: list[dict[str, Any]]
    ) -> tuple[list[tuple[dict[str, Any], Mutation]], list[tuple[dict[str, Any], str]]]:
        role = agents.current_role(self.ws)
        ready: list[tuple[dict[str, Any], Mutation]] = []
        refused: list[tuple[dict[str, Any], str]] = []
        for entry in entries:
            try:
                fields = json.loads(entry["changed_fields"])
            except ValueError:
                fields = None
            if not isinstance(fields, dict):
                refused.append((entry, "Modification illisible : elle n'a pas pu être envoyée."))
                continue
            if role == contract.RECEPTION and entry["table_name"] == "consents":
                purpose = fields.get("purpose")
                if purpose is None:
                    purpose = self.store.scalar(
                        "SELECT purpose FROM consents WHERE id = ?", (entry["row_id"],)
                    )
                if purpose != "registre":
                    refused.append((entry, RECEPTION_CONSENT_REASON))
                    continue
            try:
                mutation = Mutation(
                    mutation_id=entry["mutation_id"],
                    table_name=entry["table_name"],
                    row_id=entry["row_id"],
                    op=entry["op"],
                    changed_fields=fields,
                    base_version=int(entry["base_version"]),
                    hlc=entry["hlc"],
                )
            except ValidationError as exc:
                errors = exc.errors()
                what = errors[0].get("msg", "") if errors else ""
                refused.append(
                    (
                        entry,
                        "Modification impossible à envoyer (format refusé par le protocole"
                        f"{' : ' + str(what)[:200] if what else ''}).",
                    )
                )
                continue
            ready.append((entry, mutation))
        return ready, refused

    def _mark_attempt(
        self, ready: list[tuple[dict[str, Any], Mutation]], error: str | None
    ) -> None:
        ids = [m.mutation_id for _e, m in ready]
        marks = ",".join("?" for _ in ids)
        with self.store.transaction() as conn:
            if error is None:
                conn.execute(
                    f"UPDATE outbox SET attempts = attempts + 1 WHERE mutation_id IN ({marks})",
                    ids,
                )
            else:
                conn.execute(
                    f"UPDATE outbox SET last_error = ? WHERE mutation_id IN ({marks})",
                    (error[:500], *ids),
                )

    @staticmethod
    def _check_results(ids: list[str], reply: PushReply) -> None:
        got = [r.mutation_id for r in reply.results]
        if len(got) != len(ids) or sorted(got) != sorted(ids):
            raise ProtocolError("les résultats ne correspondent pas aux modifications envoyées")

    def _acknowledge(
        self, ready: list[tuple[dict[str, Any], Mutation]], reply: PushReply, report: SyncReport
    ) -> None:
        self._check_results([m.mutation_id for _e, m in ready], reply)
        by_id = {m.mutation_id: entry for entry, m in ready}
        role = agents.current_role(self.ws)
        owner = self.store.get_setting("owner_agent_id")
        refresh = False
        now = self._now()
        with local.foreign_keys_off(self.store), self.store.transaction() as conn:
            for result in reply.results:
                entry = by_id[result.mutation_id]
                final = result.original_status if result.status == "duplicate" else result.status
                if result.status == "duplicate":
                    report.duplicates += 1
                if final == "rejected":
                    reason = result.reason or "Modification refusée par le serveur."
                    local.reject_entry(self.store, entry, reason, now)
                    report.rejected += 1
                    refresh = True
                    self._drop_if_not_held(entry, role, owner)
                    continue
                conn.execute("DELETE FROM outbox WHERE mutation_id = ?", (result.mutation_id,))
                report.pushed += 1
                if final == "conflict":
                    report.conflicts += max(1, len(result.conflict_ids))  # one per field
                else:
                    report.applied += 1
                if result.reason:
                    report.notices.append(result.reason)
                self._after_ack(entry, result, role, owner)
            if refresh:
                local.full_download_due(self.store)
                local.forget_values_of_absent_rows(self.store)

    def _after_ack(
        self, entry: dict[str, Any], result: MutationResult, role: str | None, owner: str | None
    ) -> None:
        table, row_id = str(entry["table_name"]), str(entry["row_id"])
        store = self.store
        if not local.is_local_table(store, table):
            return
        row = store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        if row is None:
            return
        # Not the row's server_version: the server may have applied this edit on top of changes
        # this device has not pulled yet, and base versions must not claim to have seen them.
        if result.server_version is not None and table in ACK_TRACKED_TABLES:
            local.record_ack(store, table, row_id, result.server_version)
        if result.hlc_adjusted_to and table in local.MERGE_TABLES:
            stamps: dict[str, str] = json.loads(row.get("field_hlc") or "{}")
            moved = {k: result.hlc_adjusted_to for k, v in stamps.items() if v == entry["hlc"]}
            if moved:
                stamps.update(moved)
                store.conn.execute(
                    f"UPDATE {table} SET field_hlc = ? WHERE id = ?",
                    (json.dumps(stamps, sort_keys=True), row_id),
                )
        self._drop_if_not_held(entry, role, owner)

    def _drop_if_not_held(self, entry: dict[str, Any], role: str | None, owner: str | None) -> None:
        """A row this agent will never receive back leaves the device once its edits are
        answered (reception encounters, a follow-up assigned to a colleague, …)."""
        table, row_id = str(entry["table_name"]), str(entry["row_id"])
        store = self.store
        if not local.is_local_table(store, table):
            return
        row = store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        right = agents.has_register_right(self.ws) if table in contract.REGISTER_TABLES else True
        if row is None or local.may_hold(role, owner, table, row, right):
            return
        still = store.scalar(
            "SELECT 1 FROM outbox WHERE table_name = ? AND row_id = ? LIMIT 1", (table, row_id)
        )
        if not still:
            store.conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
            store.conn.execute(
                "DELETE FROM sync_acked WHERE table_name = ? AND row_id = ?", (table, row_id)
            )

    def _push_audit(
        self,
        transport: Transport,
        token: str,
        meta: MetaReply,
        report: SyncReport,
        stop: CancelCheck,
    ) -> None:
        """Audit entries go up as inserts and leave the device once acknowledged."""
        batch = max(1, min(self.push_batch, meta.max_push_batch))
        while True:
            self._check_cancel(stop)
            rows = self.store.query("SELECT * FROM audit_log ORDER BY at, rowid LIMIT ?", (batch,))
            if not rows:
                break
            mutations: list[Mutation] = []
            unusable: list[str] = []
            for row in rows:
                try:
                    detail = json.loads(row["detail"] or "{}")
                except ValueError:
                    detail = {}
                fields: dict[str, JsonValue] = {
                    "at": row["at"],
                    "event": row["event"],
                    "entity": row["entity"],
                    "entity_id": row["entity_id"],
                    "detail": detail if isinstance(detail, dict) else {},
                }
                if row["agent_id"]:
                    fields["agent_id"] = row["agent_id"]
                try:
                    mutations.append(
                        Mutation(
                            mutation_id=row["id"],
                            table_name="audit_log",
                            row_id=row["id"],
                            op="insert",
                            changed_fields=fields,
                            base_version=0,
                            hlc=self.ws.hlc.now(),
                        )
                    )
                except ValidationError:
                    unusable.append(str(row["id"]))
            if unusable:
                log.warning("%d unreadable audit entries dropped", len(unusable))
                with self.store.transaction() as conn:
                    conn.executemany("DELETE FROM audit_log WHERE id = ?", [(i,) for i in unusable])
            if not mutations:
                continue
            reply = transport.push(
                token,
                PushRequest(
                    device_id=self.ws.device_id,
                    client_time_ms=self.ws.clock.millis(),
                    mutations=mutations,
                ),
            )
            self._check_results([m.mutation_id for m in mutations], reply)
            refused = 0
            with self.store.transaction() as conn:
                for result in reply.results:
                    conn.execute("DELETE FROM audit_log WHERE id = ?", (result.mutation_id,))
                    final = (
                        result.original_status if result.status == "duplicate" else result.status
                    )
                    if final == "rejected":
                        refused += 1
                local.set_meta(self.store, "last_hlc", self.ws.hlc.last)
            if refused:
                log.warning("%d audit entries refused by the server", refused)
            report.audit_sent += len(mutations) - refused

    # -- pull -------------------------------------------------------------------------------

    def _pull(
        self,
        transport: Transport,
        token: str,
        report: SyncReport,
        notify: ProgressCallback,
        stop: CancelCheck,
    ) -> None:
        applier = PageApplier(self.ws)
        cursor = local.get_meta(self.store, "pull_cursor") or "0"
        if cursor == "0":
            local.restart_full_download(self.store)
        start = int(cursor) if cursor.isdigit() else None
        with _PagePrefetch(transport, token, self.pull_limit) as pages:
            self._pull_pages(pages, applier, cursor, start, report, notify, stop)

    def _pull_pages(
        self,
        pages: _PagePrefetch,
        applier: PageApplier,
        cursor: str,
        start: int | None,
        report: SyncReport,
        notify: ProgressCallback,
        stop: CancelCheck,
    ) -> None:
        stuck = 0
        for _ in range(MAX_PAGES_PER_SYNC):
            self._check_cancel(stop)
            page = pages.get(cursor)
            if page.has_more and not page.reset_required:
                # The next page is asked for while this one is applied (same request, same
                # order: the server works while the local database does).
                pages.ask(page.next_cursor)
            if page.reset_required:
                report.resets += 1
                if report.resets > MAX_RESETS_PER_SYNC:
                    raise ProtocolError("demandes de téléchargement complet répétées")
                log.info("server asked for a full download (outbox kept)")
                local.restart_full_download(self.store)
                cursor, start = "0", None
                continue
            if cursor == "0":
                report.full_download = True
            stats = applier.apply(page, cursor)
            report.pages += 1
            report.received += stats.received
            report.removed += stats.removed
            report.tables |= stats.tables
            if start is not None and page.next_cursor.isdigit():
                done, total = int(page.next_cursor) - start, max(0, page.head_seq - start)
            else:
                done, total = report.received, None
            notify(
                SyncProgress(
                    "réception",
                    done,
                    total,
                    "Réception des données ("
                    + count(report.received, "{n} élément", "{n} éléments")
                    + ")…",
                )
            )
            if not page.has_more:
                if local.get_meta(self.store, FULL_DOWNLOAD_DUE) is None:
                    return
                # Rejected edits: the device's copy of those rows may differ from the server's.
                # The incremental pull is complete (removals and erasures applied); now a full
                # download, authoritative, restores the server's version of every row.
                log.info("full download after rejected edits (outbox kept)")
                local.restart_full_download(self.store)
                cursor, start = "0", None
                continue
            stuck = stuck + 1 if page.next_cursor == cursor and not page.changes else 0
            if stuck > 3:
                raise ProtocolError("le serveur n'avance pas dans le téléchargement")
            if start is None and page.snapshot_done and page.next_cursor.isdigit():
                start = int(page.next_cursor)
            cursor = page.next_cursor
        raise ProtocolError("téléchargement sans fin")


class _PagePrefetch:
    """Pull pages, the next one fetched in the background while the current one is applied.

    Only one request is ever in flight and pages are requested in the same order as without
    it. A prefetched page is used only if its cursor is the one asked for next; otherwise it
    is dropped (pulls change nothing on the server). Its errors are raised by :meth:`get`,
    where a direct request would have raised them.
    """

    def __init__(self, transport: Transport, token: str, limit: int) -> None:
        self.transport = transport
        self.token = token
        self.limit = limit
        self._executor: ThreadPoolExecutor | None = None
        self._ahead: tuple[str, Future[PullReply]] | None = None

    def __enter__(self) -> _PagePrefetch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._drop()
        if self._executor is not None:
            self._executor.shutdown(wait=True)  # never close the transport under a request

    def _fetch(self, cursor: str) -> PullReply:
        return self.transport.pull(self.token, cursor, self.limit)

    def ask(self, cursor: str) -> None:
        self._drop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="havre-pull")
        self._ahead = (cursor, self._executor.submit(self._fetch, cursor))

    def get(self, cursor: str) -> PullReply:
        if self._ahead is not None and self._ahead[0] == cursor:
            future = self._ahead[1]
            self._ahead = None
            return future.result()
        self._drop()
        return self._fetch(cursor)

    def _drop(self) -> None:
        if self._ahead is None:
            return
        future = self._ahead[1]
        self._ahead = None
        try:
            future.result()  # wait: one request at a time
        except Exception:  # an unused page: its error does not matter
            log.debug("prefetched pull page dropped")


def resolve_conflict(ws: Workspace, conflict_id: str, value: JsonValue) -> None:
    """Keep ``value`` for the field in conflict: an ordinary edit (outbox) of that field, and the
    conflict marked resolved (also an edit, sent to the server). Works offline."""
    conflict = ws.store.query_one(
        "SELECT * FROM conflicts WHERE id = ? AND resolved_at IS NULL", (conflict_id,)
    )
    if conflict is None:
        raise NotFoundError("Ce conflit n'existe plus (il a peut-être déjà été résolu).")
    table, row_id, field_name = conflict["table_name"], conflict["row_id"], conflict["field"]
    if table not in local.MERGE_TABLES:
        raise NotFoundError("Ce conflit ne porte pas sur une fiche modifiable.")
    with ws.store.transaction():
        if table == "contacts":
            current = contacts.get(ws, row_id)
            editable = (
                contacts.PERSON_FIELDS
                if current["kind"] == "person"
                else contacts.ORGANISATION_FIELDS
            )
            if field_name in editable:
                contacts.update(ws, row_id, {field_name: value})
            else:
                ws.update_row(table, row_id, {field_name: value})
        else:
            ws.update_row(table, row_id, {field_name: value})
        ws.update_row(
            "conflicts",
            conflict_id,
            {
                "resolved_at": ws.clock.now_iso(),
                "resolution": json.dumps(value, ensure_ascii=False)[:2000],
            },
        )
    log.info("conflict %s resolved locally", conflict_id)
