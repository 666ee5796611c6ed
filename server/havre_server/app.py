"""The FastAPI application: every endpoint typed with the protocol models (OpenAPI = contract).

Every request gets an id (the client's ``X-Request-ID`` when it is a plain token, else a new
one), sent back in ``X-Request-ID`` and written on its log line. An unexpected exception is
answered 500 with the generic :class:`ErrorBody` and logged once, with the route template, the
request id and the traceback. The API docs (``/api/v1/docs``) serve Swagger UI from the
``swagger-ui-bundle-v2`` package: the City's network may have no internet.
"""

import json
import logging
import os
import re
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Annotated, Any

import swagger_ui_bundle
from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from havre_common.protocol import (
    API_PREFIX,
    CATALOGUE_TABLE_PATTERN,
    CITY_ROW_ID_PATTERN,
    CLIENT_VERSION_HEADER,
    CURSOR_PATTERN,
    DEFAULT_PULL_LIMIT,
    DEVICE_ID_PATTERN,
    MAX_CLOCK_SKEW_MS,
    MAX_CURSOR_LENGTH,
    MAX_PULL_LIMIT,
    MAX_PUSH_BATCH,
    PROTOCOL_VERSION,
    UUID_PATTERN,
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
    CatalogueImport,
    CatalogueImportReply,
    CatalogueRowOut,
    CatalogueSheet,
    CatalogueSheetReport,
    CityDetailsRow,
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
    StreetsImport,
    StreetsImportReply,
    SubjectAccessReply,
)
from havre_common.streets import read_streets
from havre_server import (
    SERVER_VERSION,
    admin,
    audit,
    auth,
    campaigns,
    catalogue,
    city,
    retention,
    subject_access,
)
from havre_server.auth import AuthSettings
from havre_server.changelog import Ordering, head_seq, ordering_from_env
from havre_server.errors import ApiError, not_found
from havre_server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from havre_server.metrics import Metrics
from havre_server.migrations import current_version, readiness_problem
from havre_server.migrations import head as migrations_head
from havre_server.pull import pull as do_pull
from havre_server.push import now_ms
from havre_server.push import push as do_push
from havre_server.reference import Reference, load_reference
from havre_server.scope import Principal

AUDIT_MOMENT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]{2,12}Z?)?$"
"""``since`` / ``until`` of the audit listing: a date, or a date and time (UTC)."""

log = logging.getLogger("havre.server.http")

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


@dataclass(frozen=True)
class Settings:
    database_url: str
    auth: AuthSettings = field(default_factory=AuthSettings)
    max_body_bytes: int = 4 * 1024 * 1024
    ordering: Ordering = field(default_factory=ordering_from_env)

    @classmethod
    def from_env(cls, database_url: str, min_client_version: str | None = None) -> "Settings":
        env = os.environ
        return cls(
            database_url=database_url,
            auth=AuthSettings(
                token_ttl_s=int(env.get("HAVRE_SERVER_TOKEN_TTL_S", str(30 * 24 * 3600))),
                max_failures=int(env.get("HAVRE_SERVER_LOGIN_MAX_FAILURES", "10")),
                max_failures_per_address=int(
                    env.get("HAVRE_SERVER_LOGIN_MAX_FAILURES_PER_ADDRESS", "50")
                ),
                failure_window_s=int(env.get("HAVRE_SERVER_LOGIN_WINDOW_S", "300")),
                min_client_version=min_client_version
                or env.get("HAVRE_SERVER_MIN_CLIENT_VERSION", "0.1.0"),
            ),
            max_body_bytes=int(env.get("HAVRE_SERVER_MAX_BODY_BYTES", str(4 * 1024 * 1024))),
        )


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody}
    for status in (401, 403, 404, 409, 410, 413, 422, 426, 429, 500, 503)
}

INTERNAL_ERROR_MESSAGE = (
    "Erreur interne du serveur : réessayez plus tard. Si elle se répète, signalez-la à "
    "l'administrateur avec sa référence."
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# Swagger UI's files as the package ships them: only those the docs page loads are served.
_DOCS_FILES = FilePath(str(swagger_ui_bundle.swagger_ui_path))
_DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


def _ascii_number(value: Any) -> Any:
    """A query integer as ASCII digits only: ``int()`` (and pydantic's lax mode, which the
    query string gets) would take ``'1_000'``, ``' 12'`` or ``'+12'``."""
    if isinstance(value, str) and not re.fullmatch(r"0|[1-9][0-9]{0,17}", value):
        raise ValueError("nombre entier attendu, en chiffres de 0 à 9")
    return value


QueryNumber = Annotated[int, BeforeValidator(_ascii_number)]


def _error_bytes(code: str, message: str, details: list[str] | None = None) -> bytes:
    body = ErrorBody(code=code, message=message, details=details or [])
    return body.model_dump_json().encode("utf-8")


class RequestLog:
    """The outermost layer: a request id, one log line per request, and the 500s.

    A handler's unexpected exception ends here: one error line (method, route template,
    request id, traceback; see logs.py for what a traceback holds) and the generic ErrorBody
    for the client, nothing more from uvicorn. The route is read from the ASGI scope that the
    router fills in, which is why no layer below copies the scope.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        def fields(answered: int) -> dict[str, Any]:
            method, route = str(scope.get("method")), getattr(scope.get("route"), "path", "?")
            seconds = time.perf_counter() - started
            self.metrics.request(method, route, answered, seconds)
            return {
                "event": "request",
                "method": method,
                "route": route,
                "status": answered,
                "request_id": request_id,
                "ms": round(seconds * 1000, 1),
            }

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.error("request failed", exc_info=True, extra=fields(500))
            if status == 0:
                body = _error_bytes(
                    "internal_error", INTERNAL_ERROR_MESSAGE, [f"Référence : {request_id}"]
                )
                await send_with_id(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send_with_id({"type": "http.response.body", "body": body})
            return
        log.info("request", extra=fields(status))


class BodyLimit:
    """Refuse bodies over the limit (413) before the application sees them; gzip bodies are
    inflated with the same bound (no zip bomb)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        # isascii: "²" (b"\xb2" in latin-1) passes isdigit() and fails int().
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(body)
            more = bool(message.get("more_body", False))
        data = b"".join(chunks)
        if headers.get("content-encoding", "").lower() == "gzip" and data:
            try:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = inflater.decompress(data, self.max_bytes + 1)
            except zlib.error:
                await self._send(send, 400, "invalid_request", "Corps gzip illisible.")
                return
            if len(data) > self.max_bytes or inflater.unconsumed_tail:
                await self._refuse(send)
                return
            # In place: RequestLog reads the route the router writes into this same scope.
            scope["headers"] = [
                (k, v) for k, v in scope["headers"] if k.lower() != b"content-encoding"
            ]
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Callable[[Any], Awaitable[None]]) -> None:
        await self._send(
            send,
            413,
            "body_too_large",
            f"Requête trop volumineuse (au plus {self.max_bytes // 1024} Kio) : envoyez des "
            "lots plus petits.",
        )

    @staticmethod
    async def _send(
        send: Callable[[Any], Awaitable[None]], status: int, code: str, message: str
    ) -> None:
        body = _error_bytes(code, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _error_response(error: ApiError) -> JSONResponse:
    headers = {}
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    return JSONResponse(
        status_code=error.status, content=error.body().model_dump(), headers=headers
    )


def create_app(settings: Settings, engine: Engine) -> FastAPI:
    ref: Reference = load_reference()
    app = FastAPI(
        title="Havre Ensemble — serveur central",
        version=SERVER_VERSION,
        description=(
            "Synchronisation des postes Havre Ensemble et administration. Les réponses d'erreur "
            "portent un code stable et un message en français."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from local files, not from a CDN
        redoc_url=None,
    )
    bearer = HTTPBearer(auto_error=False, description="Jeton de l'appareil (POST /session)")

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for error in exc.errors()[:20]:
            location = ".".join(str(part) for part in error.get("loc", ()))
            details.append(f"{location} : {error.get('msg', '')}"[:500])
        body = ErrorBody(
            code="invalid_request",
            message="Requête invalide : elle ne respecte pas le protocole.",
            details=details,
        )
        return JSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        body = ErrorBody(
            code=codes.get(exc.status_code, "invalid_request"),
            message={404: "Adresse inconnue.", 400: "Requête illisible."}.get(
                exc.status_code, "Requête refusée."
            ),
        )
        return JSONResponse(status_code=exc.status_code, content=body.model_dump())

    @app.exception_handler(OperationalError)
    async def _busy(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        body = ErrorBody(code="busy", message="Serveur momentanément indisponible : réessayez.")
        return JSONResponse(status_code=503, content=body.model_dump())

    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    metrics = Metrics(engine)
    app.add_middleware(RequestLog, metrics=metrics)  # added last: the outermost of ours

    def principal(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        header = None if credentials is None else f"Bearer {credentials.credentials}"
        return auth.authenticate(engine, header)

    def sync_client(
        x_havre_client_version: Annotated[
            str | None, Header(alias=CLIENT_VERSION_HEADER, max_length=20)
        ] = None,
    ) -> None:
        auth.check_client_version(x_havre_client_version, settings.auth.min_client_version)

    Agent = Annotated[Principal, Depends(principal)]

    @app.post(f"{API_PREFIX}/session", responses=ERRORS, tags=["session"])
    def login(request: Request, body: LoginRequest) -> LoginReply:
        """Sign in: a token for this device (to send as ``Authorization: Bearer``)."""
        address = request.client.host if request.client else "?"
        return auth.login(engine, body, address, settings.auth)

    @app.delete(f"{API_PREFIX}/session", status_code=204, responses=ERRORS, tags=["session"])
    def logout(p: Agent) -> Response:
        """Sign out: this device's token stops working."""
        auth.logout(engine, p)
        return Response(status_code=204)

    @app.get(f"{API_PREFIX}/sync/meta", tags=["sync"])
    def meta() -> MetaReply:
        """Server time, versions and head of the change log (no sign-in needed)."""
        with engine.connect().execution_options(havre_read_only=True) as conn, conn.begin():
            head = head_seq(conn)
            schema = current_version(conn)
        return MetaReply(
            protocol_version=PROTOCOL_VERSION,
            server_version=SERVER_VERSION,
            schema_version=schema,
            min_client_version=settings.auth.min_client_version,
            server_time_ms=now_ms(),
            head_seq=head,
            max_push_batch=MAX_PUSH_BATCH,
            max_pull_limit=MAX_PULL_LIMIT,
            max_clock_skew_ms=MAX_CLOCK_SKEW_MS,
        )

    @app.post(
        f"{API_PREFIX}/sync/push",
        responses=ERRORS,
        tags=["sync"],
        dependencies=[Depends(sync_client)],
    )
    def push(p: Agent, body: PushRequest) -> PushReply:
        """Send a batch of outbox entries; one result per mutation, in order."""
        reply = do_push(engine, p, body, ref, settings.ordering)
        auth.touch_device(engine, p)
        metrics.pushed(reply)
        return reply

    @app.get(
        f"{API_PREFIX}/sync/pull",
        responses={400: {"model": ErrorBody}, **ERRORS},
        tags=["sync"],
        dependencies=[Depends(sync_client)],
    )
    def pull(
        p: Agent,
        # Checked by pull() itself: a malformed cursor is a 400 invalid_cursor.
        cursor: Annotated[
            str,
            Query(json_schema_extra={"pattern": CURSOR_PATTERN, "maxLength": MAX_CURSOR_LENGTH}),
        ] = "0",
        limit: Annotated[QueryNumber, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
    ) -> PullReply:
        """The changes after ``cursor`` that this agent may see now (``"0"``: full download)."""
        reply = do_pull(engine, p, cursor, limit)
        metrics.pulled(reply)
        return reply

    # -- operations: liveness, readiness, metrics (outside the API; see docs/server.md) ----

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        """Liveness: the process answers (nothing else is checked)."""
        return {"status": "ok"}

    @app.get("/ready", include_in_schema=False)
    def ready() -> JSONResponse:
        """Readiness: the database answers and its schema is at this server's head revision."""
        problem = readiness_problem(engine)
        if problem is not None:
            return JSONResponse(status_code=503, content={"status": "not_ready", "reason": problem})
        return JSONResponse(content={"status": "ready", "schema": migrations_head()})

    @app.get("/metrics", include_in_schema=False)
    def metrics_page() -> Response:
        return Response(content=metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    # -- API docs, with no internet ----------------------------------------------------------

    docs_assets = f"{API_PREFIX}/docs/assets"

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — API",
            swagger_js_url=f"{root}{docs_assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{docs_assets}/swagger-ui.css",
            swagger_favicon_url=f"{root}{docs_assets}/favicon-32x32.png",
            # No badge from validator.swagger.io: it would send the schema's address out.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(f"{docs_assets}/{{name}}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        if name not in _DOCS_ASSETS:
            raise not_found("Fichier inconnu.")
        return FileResponse(
            _DOCS_FILES / name,
            media_type=_DOCS_ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # -- administration ---------------------------------------------------------------------

    AgentPath = Annotated[str, Path(pattern=UUID_PATTERN)]

    @app.get(f"{API_PREFIX}/admin/agents", responses=ERRORS, tags=["admin"])
    def list_agents(p: Agent) -> list[AgentOut]:
        return admin.list_agents(engine, p)

    @app.post(f"{API_PREFIX}/admin/agents", status_code=201, responses=ERRORS, tags=["admin"])
    def create_agent(p: Agent, body: AgentCreate) -> AgentOut:
        return admin.create_agent(engine, p, body, ref, settings.ordering)

    @app.patch(f"{API_PREFIX}/admin/agents/{{agent_id}}", responses=ERRORS, tags=["admin"])
    def update_agent(p: Agent, agent_id: AgentPath, body: AgentUpdate) -> AgentOut:
        return admin.update_agent(engine, p, agent_id, body, ref, settings.ordering)

    @app.post(f"{API_PREFIX}/admin/agents/{{agent_id}}/password", responses=ERRORS, tags=["admin"])
    def reset_password(p: Agent, agent_id: AgentPath) -> PasswordReset:
        """A new one-time password for the agent (given once); their sessions are closed."""
        return admin.reset_password(engine, p, agent_id)

    @app.get(f"{API_PREFIX}/admin/devices", responses=ERRORS, tags=["admin"])
    def list_devices(p: Agent) -> list[DeviceOut]:
        return admin.list_devices(engine, p)

    @app.post(
        f"{API_PREFIX}/admin/devices/{{device_id}}/revoke",
        status_code=204,
        responses=ERRORS,
        tags=["admin"],
    )
    def revoke_device(
        p: Agent, device_id: Annotated[str, Path(pattern=DEVICE_ID_PATTERN)]
    ) -> Response:
        admin.revoke_device(engine, p, device_id)
        return Response(status_code=204)

    @app.post(f"{API_PREFIX}/admin/catalogue", responses=ERRORS, tags=["admin"])
    def import_catalogue(p: Agent, body: CatalogueImport) -> CatalogueImportReply:
        return admin.import_catalogue(
            engine, p, json.loads(body.model_dump_json()), ref, settings.ordering
        )

    @app.post(f"{API_PREFIX}/admin/catalogue/sheet", responses=ERRORS, tags=["admin"])
    def import_catalogue_sheet(p: Agent, body: CatalogueSheet) -> CatalogueSheetReport:
        """The City's spreadsheet, read on the device: a preview (``apply`` false), or the
        import (all or nothing; the same sheet twice changes nothing)."""
        sheet = catalogue.sheet_from_request(
            body.columns,
            ((r.line, r.cells) for r in body.rows),
            ((q.line, q.column, q.message) for q in body.problems),
            body.header_line,
        )
        return catalogue.import_sheet(engine, p, sheet, ref, settings.ordering, apply=body.apply)

    CatalogueTable = Annotated[str, Path(pattern=CATALOGUE_TABLE_PATTERN)]

    @app.put(f"{API_PREFIX}/catalogue/{{table}}/{{row_id}}", responses=ERRORS, tags=["admin"])
    def save_catalogue_row(
        p: Agent, table: CatalogueTable, row_id: AgentPath, body: CatalogueChange
    ) -> CatalogueRowOut:
        """Create or change an action, a facility or a temporary change (coordinators of its
        territories, administrators); every device receives it at its next pull."""
        row = catalogue.save_row(
            engine, p, table, row_id, dict(body.values), ref, settings.ordering
        )
        return CatalogueRowOut.model_validate(row)

    CityRowPath = Annotated[str, Path(pattern=CITY_ROW_ID_PATTERN)]

    @app.get(f"{API_PREFIX}/admin/city-details", responses=ERRORS, tags=["admin"])
    def list_city_details(p: Agent) -> list[CityDetailsRow]:
        return city.list_city_details(engine, p)

    @app.put(f"{API_PREFIX}/admin/city-details/{{row_id}}", responses=ERRORS, tags=["admin"])
    def set_city_details(p: Agent, row_id: CityRowPath, body: CityDetailsUpdate) -> CityDetailsRow:
        return city.set_city_details(engine, p, row_id, dict(body.values), ref, settings.ordering)

    @app.delete(
        f"{API_PREFIX}/admin/city-details/{{row_id}}",
        status_code=204,
        responses=ERRORS,
        tags=["admin"],
    )
    def remove_city_details(p: Agent, row_id: CityRowPath) -> Response:
        city.remove_city_details(engine, p, row_id, settings.ordering)
        return Response(status_code=204)

    @app.post(f"{API_PREFIX}/admin/streets", responses=ERRORS, tags=["admin"])
    def import_streets(p: Agent, body: StreetsImport) -> StreetsImportReply:
        read = read_streets(body.csv, ref)
        counts = city.import_streets(engine, p, read, settings.ordering, sample=body.sample)
        return StreetsImportReply(**counts)

    @app.get(f"{API_PREFIX}/admin/audit", responses=ERRORS, tags=["admin"])
    def list_audit(
        p: Agent,
        entity_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9:_.-]{1,100}$")] = None,
        agent_id: Annotated[str | None, Query(pattern=UUID_PATTERN)] = None,
        event: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{0,59}$")] = None,
        since: Annotated[str | None, Query(pattern=AUDIT_MOMENT)] = None,
        until: Annotated[str | None, Query(pattern=AUDIT_MOMENT)] = None,
        before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 200,
    ) -> AuditPage:
        filters = audit.Filters(entity_id, agent_id, event, since, until, before, limit)
        return audit.list_entries(engine, p, filters)

    @app.get(f"{API_PREFIX}/admin/persons/{{person_id}}/access", responses=ERRORS, tags=["admin"])
    def subject_access_export(p: Agent, person_id: AgentPath) -> SubjectAccessReply:
        return SubjectAccessReply.model_validate(subject_access.for_agent(engine, p, person_id))

    @app.post(f"{API_PREFIX}/admin/persons/{{person_id}}/erase", responses=ERRORS, tags=["admin"])
    def erase_person(p: Agent, person_id: AgentPath, body: EraseRequest) -> EraseReply:
        return admin.erase_person(engine, p, person_id, body.reason, settings.ordering)

    # -- alert campaigns (coordinators and administrators with the register right) -----------

    @app.post(f"{API_PREFIX}/campaigns", status_code=201, responses=ERRORS, tags=["campagnes"])
    def start_campaign(p: Agent, body: CampaignStart) -> CampaignStarted:
        """Start an alert campaign: the call lists of the register's persons of the chosen
        territories, split among the chosen agents, most at risk first."""
        return campaigns.start_campaign(engine, p, body, ref, settings.ordering)

    @app.get(
        f"{API_PREFIX}/campaigns/{{campaign_id}}/progress", responses=ERRORS, tags=["campagnes"]
    )
    def campaign_progress(p: Agent, campaign_id: AgentPath) -> CampaignProgress:
        return campaigns.progress(engine, p, campaign_id)

    @app.post(
        f"{API_PREFIX}/campaigns/{{campaign_id}}/reassign", responses=ERRORS, tags=["campagnes"]
    )
    def reassign_calls(
        p: Agent, campaign_id: AgentPath, body: CampaignReassign
    ) -> CampaignReassigned:
        return campaigns.reassign(engine, p, campaign_id, body, settings.ordering)

    @app.post(f"{API_PREFIX}/campaigns/{{campaign_id}}/close", responses=ERRORS, tags=["campagnes"])
    def close_campaign(p: Agent, campaign_id: AgentPath, body: CampaignClose) -> CampaignClosed:
        return campaigns.close(engine, p, campaign_id, body, settings.ordering)

    @app.get(f"{API_PREFIX}/campaigns/{{campaign_id}}/daily", responses=ERRORS, tags=["campagnes"])
    def campaign_daily(p: Agent, campaign_id: AgentPath) -> CampaignDaily:
        """The campaign's figures day by day (what the préfet may ask for)."""
        return campaigns.daily(engine, p, campaign_id)

    @app.get(f"{API_PREFIX}/admin/retention", responses=ERRORS, tags=["admin"])
    def retention_due(p: Agent) -> RetentionList:
        """Files past their retention period that nothing keeps active (coordinators: their
        territories; administrators: all)."""
        return retention.due(engine, p)

    @app.post(f"{API_PREFIX}/admin/retention/anonymise", responses=ERRORS, tags=["admin"])
    def retention_anonymise(p: Agent, body: RetentionApply) -> RetentionReply:
        """Anonymise the files confirmed that are still due (checked again)."""
        return retention.anonymise(engine, p, body.person_ids, settings.ordering)

    return app
