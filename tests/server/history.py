"""Helpers of the history, compaction, unservable-row and erasure tests: unique fake values,
edits pushed one after the other, everything a device received."""

from __future__ import annotations

import json
import random
import string
import uuid
from typing import Any

from tests.server.support import Device, new_person


def fake_name() -> str:
    """A family name no other test writes (ASCII, so that it is found as such in raw bytes)."""
    return "Zq" + "".join(random.choices(string.ascii_lowercase, k=12))


def fake_phone() -> str:
    """A French landline number in the form the server stores, unlikely to exist elsewhere."""
    digits = [f"{random.randrange(100):02d}" for _ in range(3)]
    return "02 38 " + " ".join(digits)


def edit(device: Device, table: str, row_id: str, base: int, **fields: Any) -> int:
    """Push one update; returns the row's new server version (the base of the next edit)."""
    result = device.push(device.mutation(table, row_id, "update", fields, base))[0]
    assert result["status"] == "applied", result
    return int(result["server_version"])


def delete_row(device: Device, table: str, row_id: str, base: int) -> None:
    result = device.push(device.mutation(table, row_id, "delete", {}, base))[0]
    assert result["status"] == "applied", result


def person_with_history(device: Device, territory: str, edits: int = 3) -> tuple[str, list[str]]:
    """A person whose phone was changed ``edits`` times; returns (id, phones oldest first)."""
    phones = [fake_phone() for _ in range(edits + 1)]
    person_id = new_person(device, territory, family_name=fake_name(), phone_1=phones[0])
    version = 1
    for phone in phones[1:]:
        version = edit(device, "contacts", person_id, version, phone_1=phone)
    return person_id, phones


def deleted_person(device: Device, territory: str) -> tuple[str, str]:
    """A person created then deleted; returns (id, her family name)."""
    name = fake_name()
    person_id = new_person(device, territory, family_name=name, phone_1=fake_phone())
    delete_row(device, "contacts", person_id, 1)
    return person_id, name


def received(changes: list[dict[str, Any]], table: str, row_id: str) -> list[dict[str, Any]]:
    return [c for c in changes if c["table_name"] == table and c["row_id"] == row_id]


def pull_everything(device: Device, cursor: str, limit: int = 500) -> list[dict[str, Any]]:
    """Every change a device is sent from ``cursor`` until it is up to date (no reset)."""
    changes, _ = device.pull_all(cursor, limit)
    return changes


def body_of(changes: list[dict[str, Any]]) -> str:
    return json.dumps(changes, ensure_ascii=False)


def new_id() -> str:
    return str(uuid.uuid4())
