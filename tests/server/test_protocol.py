"""The shared protocol types refuse hostile or corrupt requests and replies as a whole."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from havre_common.protocol import (
    MAX_PUSH_BATCH,
    MAX_ROW_JSON_BYTES,
    AgentUpdate,
    Change,
    ErrorBody,
    LoginRequest,
    MutationResult,
    PullReply,
    PushRequest,
    printable,
    version_tuple,
)


def _mutation(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mutation_id": str(uuid.uuid4()),
        "table_name": "contacts",
        "row_id": str(uuid.uuid4()),
        "op": "update",
        "changed_fields": {"city": "Harfleur"},
        "base_version": 1,
        "hlc": "1795632326621-0001-abcdef0123456789",
    }
    data.update(overrides)
    return data


def _push(*mutations: dict[str, Any]) -> dict[str, Any]:
    return {"device_id": "abcdef0123456789", "client_time_ms": 1, "mutations": list(mutations)}


def _reply(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "changes": [
            {
                "seq": 3,
                "table_name": "contacts",
                "row_id": str(uuid.uuid4()),
                "op": "upsert",
                "fields": {"city": "Le Havre"},
                "server_version": 2,
            }
        ],
        "next_cursor": "3",
        "has_more": False,
        "phase": "log",
        "head_seq": 3,
    }
    data.update(overrides)
    return data


def test_a_well_formed_push_and_reply_are_accepted() -> None:
    assert PushRequest.model_validate_json(PushRequest(**_push(_mutation())).model_dump_json())
    reply = PullReply.model_validate(_reply())
    assert reply.changes[0].op == "upsert"


@pytest.mark.parametrize(
    "mutation",
    [
        _mutation(base_version="1"),
        _mutation(op="upsert"),
        _mutation(row_id="1 OR 1=1"),
        _mutation(hlc="2026-11-25"),
        _mutation(hlc="١٧٩٥٦٣٢٣٢٦٦٢١-0001-abcdef0123456789"),  # Arabic-Indic digits
        _mutation(changed_fields={"Bad-Key": 1}),
        _mutation(changed_fields={"notes": "x" * (MAX_ROW_JSON_BYTES + 1)}),
        _mutation(changed_fields={f"f{i}": i for i in range(65)}),
        {**_mutation(), "unexpected": True},
    ],
)
def test_hostile_mutations_are_refused(mutation: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PushRequest.model_validate(_push(mutation))


def test_batches_are_bounded_and_ids_unique() -> None:
    with pytest.raises(ValidationError):
        PushRequest.model_validate(_push(*[_mutation() for _ in range(MAX_PUSH_BATCH + 1)]))
    twice = _mutation()
    with pytest.raises(ValidationError):
        PushRequest.model_validate(_push(twice, twice))
    with pytest.raises(ValidationError):
        PushRequest.model_validate(_push())


@pytest.mark.parametrize(
    "reply",
    [
        _reply(has_more="false"),
        _reply(reset_required=True),  # a reset carrying changes
        _reply(next_cursor=""),
        _reply(phase="other"),
        _reply(
            changes=[
                {"seq": 1, "table_name": "x", "row_id": "a", "op": "remove", "server_version": 0}
            ]
        ),  # a removal without its reason
        _reply(
            changes=[
                {
                    "seq": 1,
                    "table_name": "x",
                    "row_id": "a",
                    "op": "upsert",
                    "reason": "erased",
                    "fields": {},
                    "server_version": 0,
                }
            ]
        ),
        _reply(
            changes=[
                {
                    "seq": -1,
                    "table_name": "x",
                    "row_id": "a",
                    "op": "remove",
                    "reason": "erased",
                    "server_version": 0,
                }
            ]
        ),
        {**_reply(), "injected": "<script>"},
    ],
)
def test_hostile_or_corrupt_pull_replies_are_refused(reply: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PullReply.model_validate(reply)


def test_results_and_errors_are_consistent() -> None:
    mutation_id = str(uuid.uuid4())
    with pytest.raises(ValidationError):
        MutationResult(mutation_id=mutation_id, status="rejected")
    with pytest.raises(ValidationError):
        MutationResult(mutation_id=mutation_id, status="duplicate")
    with pytest.raises(ValidationError):
        Change.model_validate(
            {
                "seq": 1,
                "table_name": "contacts",
                "row_id": "a",
                "op": "remove",
                "reason": "stolen",
                "server_version": 1,
            }
        )
    body = ErrorBody(code="device_revoked", message="Cet appareil a été révoqué.", wipe=True)
    assert ErrorBody.model_validate_json(body.model_dump_json()).wipe is True


@pytest.mark.parametrize(
    "text", ["٠.١.٠", "0.1.0\n", " 0.1.0", "0.1", "0.1.0.0", "+0.1.0", "0_1.1.0"]
)
def test_versions_are_ascii_major_minor_patch(text: str) -> None:
    with pytest.raises(ValueError):
        version_tuple(text)
    with pytest.raises(ValidationError):
        LoginRequest.model_validate(
            {"login": "a", "password": "b", "device_id": "d" * 12, "client_version": text}
        )
    assert version_tuple("0.10.2") == (0, 10, 2)


@pytest.mark.parametrize("bad", ["\x00", "\t", "\n", "\x1b", "\x7f", "\x9b", "\ud800", "\udfff"])
def test_text_with_control_characters_or_lone_surrogates_is_refused(bad: str) -> None:
    login = {
        "login": "agent",
        "password": "mot-de-passe",
        "device_id": "abcdef0123456789",
        "client_version": "0.1.0",
    }
    assert LoginRequest.model_validate(login)
    for key in ("login", "password", "device_label"):
        with pytest.raises(ValidationError):
            LoginRequest.model_validate({**login, key: f"ab{bad}cd"})
    with pytest.raises(ValidationError):
        AgentUpdate.model_validate({"display_name": f"Martine{bad}Durand"})


def test_a_message_is_made_printable_never_refused() -> None:
    body = ErrorBody(code="invalid_request", message="Ligne 1\nLigne 2\tfin", details=["a\x00b"])
    assert body.message == "Ligne 1\nLigne 2\tfin"
    assert body.details == ["a\ufffdb"]
    assert printable("x\ud800\x1by") == "x\ufffd\ufffdy"
    assert printable("a\nb", multiline=False) == "a\ufffdb"


@pytest.mark.parametrize("digits", ["١٧٩٥٦٣٢٣٢٦٦٢١", "１７９５６３２３２６６２１"])
def test_stamps_and_versions_are_ascii_digits(digits: str) -> None:
    with pytest.raises(ValidationError):
        PushRequest.model_validate(_push(_mutation(hlc=f"{digits}-0001-abcdef0123456789")))
    with pytest.raises(ValueError):
        version_tuple(f"{digits[:1]}.1.0")
    assert version_tuple("0.10.2") == (0, 10, 2)


@pytest.mark.parametrize("cursor", ["١٢", "²", "12 ", "s.1.0.é"])
def test_a_reply_with_a_cursor_outside_printable_ascii_is_refused(cursor: str) -> None:
    with pytest.raises(ValidationError):
        PullReply.model_validate(_reply(next_cursor=cursor))


def test_a_field_name_with_a_final_line_feed_is_refused() -> None:
    with pytest.raises(ValidationError):
        PushRequest.model_validate(_push(_mutation(changed_fields={"city\n": "Rouen"})))
