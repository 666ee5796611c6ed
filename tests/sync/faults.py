"""A fault-injecting httpx transport: the desktop's real HTTP transport, wrapped.

It sits where the network is (``SyncEngine(http_wrap=...)``), so every byte the client sends
or receives goes through it, to a real server process on loopback. A :class:`FaultPlan` holds
rules matched against request paths; each rule fires a number of times:

``drop_request``  the request never reaches the server (connection refused)
``cut_request``   the request is sent with only half of its body, then the connection is cut
                  (raw socket: the server sees a truncated upload and must not commit it)
``drop_reply``    the server processes (and commits) the request, the reply is lost
``cut_reply``     the reply arrives but its body stops midway (connection cut)
``duplicate``     the request reaches the server twice (the client sees the second reply)
``reorder``       a copy of the request is held back and delivered after the next request
``delay``         the request waits before being forwarded
``rewrite``       the reply is replaced by what a function makes of it (hostile server)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

FAULTS = (
    "drop_request",
    "cut_request",
    "drop_reply",
    "cut_reply",
    "duplicate",
    "reorder",
    "delay",
    "rewrite",
)


@dataclass
class Rule:
    endpoint: str  # "session", "meta", "push", "pull" or "*"
    fault: str
    times: int = 1
    skip: int = 0  # let this many matching requests through first
    delay_s: float = 0.0
    rewrite: Callable[[int, bytes], tuple[int, bytes]] | None = None

    def __post_init__(self) -> None:
        assert self.fault in FAULTS, self.fault


def endpoint_of(request: httpx.Request) -> str:
    path = request.url.path.rstrip("/")
    return path.rsplit("/", 1)[-1]


@dataclass
class FaultPlan:
    rules: list[Rule] = field(default_factory=list)
    applied: list[tuple[str, str]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    seen_cursors: list[str] = field(default_factory=list)
    fault_cursors: list[str] = field(default_factory=list)  # pulls a rule fired on
    # Shown each request before it goes on (a test's trigger: kill the server while a push
    # is in flight…); runs on the thread that sends the request.
    on_request: Callable[[httpx.Request], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, endpoint: str, fault: str, **options: object) -> FaultPlan:
        self.rules.append(Rule(endpoint, fault, **options))  # type: ignore[arg-type]
        return self

    def clear(self) -> None:
        self.rules.clear()

    def match(self, request: httpx.Request) -> Rule | None:
        name = endpoint_of(request)
        if self.on_request is not None:
            self.on_request(request)
        with self._lock:
            self.seen.append(name)
            cursor = request.url.params.get("cursor", "")
            if name == "pull":
                self.seen_cursors.append(cursor)
            for rule in self.rules:
                if rule.endpoint not in (name, "*") or rule.times <= 0:
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.times -= 1
                self.applied.append((name, rule.fault))
                if name == "pull":
                    self.fault_cursors.append(cursor)
                return rule
        return None


class _CutStream(httpx.SyncByteStream):
    """Yields part of a body, then fails as a connection closed by the peer would."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        if self.data:
            yield self.data
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body (fault)"
        )


def _copy(request: httpx.Request) -> httpx.Request:
    return httpx.Request(
        request.method, request.url, headers=request.headers, content=request.content
    )


class FaultyTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, plan: FaultPlan) -> None:
        self.inner = inner
        self.plan = plan
        self.held: list[httpx.Request] = []

    def close(self) -> None:
        self.inner.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def _deliver_held(self) -> None:
        held, self.held = self.held, []
        for late in held:
            try:
                response = self._send(late)
                response.read()
                response.close()
            except httpx.HTTPError:
                pass

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        rule = self.plan.match(request)
        try:
            return self._handle(request, rule)
        finally:
            if rule is None or rule.fault != "reorder":
                self._deliver_held()

    def _handle(self, request: httpx.Request, rule: Rule | None) -> httpx.Response:
        if rule is None:
            return self._send(request)
        fault = rule.fault
        if fault == "drop_request":
            raise httpx.ConnectError("connection refused (fault)", request=request)
        if fault == "cut_request":
            _send_half(request)
            raise httpx.WriteError("connection reset while sending (fault)", request=request)
        if fault == "delay":
            time.sleep(rule.delay_s)
            return self._send(request)
        if fault == "duplicate":
            first = self._send(_copy(request))
            first.read()
            first.close()
            return self._send(request)
        if fault == "reorder":
            self.held.append(_copy(request))
            return self._send(request)
        response = self._send(request)
        raw = b"".join(response.iter_raw())
        response.close()
        if fault == "drop_reply":
            raise httpx.ReadError("connection lost before the reply (fault)", request=request)
        if fault == "cut_reply":
            headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-length"]
            return httpx.Response(
                response.status_code,
                headers=headers,
                stream=_CutStream(raw[: max(1, len(raw) // 2)]),
                request=request,
            )
        assert fault == "rewrite" and rule.rewrite is not None
        decoded = httpx.Response(
            response.status_code, headers=response.headers, content=raw
        ).content
        status, body = rule.rewrite(response.status_code, decoded)
        return httpx.Response(
            status, headers={"content-type": "application/json"}, content=body, request=request
        )


def _send_half(request: httpx.Request) -> None:
    """Open a raw connection, send the headers and half of the body, then close it."""
    url = request.url
    body = request.content
    lines = [f"{request.method} {url.raw_path.decode('ascii')} HTTP/1.1"]
    for key, value in request.headers.items():
        if key.lower() not in ("content-length", "connection"):
            lines.append(f"{key}: {value}")
    lines += [f"content-length: {len(body)}", "connection: close", "", ""]
    head = "\r\n".join(lines).encode("latin-1")
    with socket.create_connection((url.host, url.port or 80), timeout=5) as sock:
        sock.sendall(head + body[: len(body) // 2])
        sock.shutdown(socket.SHUT_RDWR)
