"""The City's details printed on every document (contract table ``city_details``), both sides.

One row ``ville`` holds what is City-wide: the standard's number and label, and the heatwave
information line. Every other row is a desk or service that receives the public (a *mairie
annexe*, a CCAS desk…): its name, address and opening hours, and the territory it serves. The
server is authoritative (coordinators and administrators edit, through the admin API, the
``havre-server city-details`` command or the desktop's form); devices receive the rows.

The rules that cross fields of a row (which fields a row of each kind may carry) live here, so
the server refuses and the desktop's form explains with the same French sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from havre_common import contract
from havre_common.values import normalise_phone

CITY_ROW: Final = "ville"
"""The id of the City-wide row."""
CITY_WIDE_FIELDS: Final = ("standard_label", "standard_phone", "heatwave_line")
"""What only the ``ville`` row carries (the same for every desk)."""
DESK_FIELDS: Final = ("desk_name", "address", "opening_hours")
"""What a desk or service carries (the ``ville`` row may carry them too: the central desk,
printed where an agent's territory has no desk of its own)."""
EDITABLE_FIELDS: Final = ("territory_id", *DESK_FIELDS, *CITY_WIDE_FIELDS)

SAMPLE_CITY_PHONE: Final = "02 61 91 00 00"
"""A number of the range the French regulator reserves for fiction, like all demo data."""
SAMPLE_CITY_LABEL: Final = "Ville du Havre, standard (numéro fictif)"
CITY_LABEL: Final = "Ville du Havre, standard"
HEATWAVE_LINE: Final = "0 800 06 66 66"
"""Canicule info service: national, free (a real number, the same everywhere in France)."""

SAMPLE_CITY_DETAILS: Final[Mapping[str, Mapping[str, Any]]] = {
    CITY_ROW: {
        "standard_label": SAMPLE_CITY_LABEL,
        "standard_phone": SAMPLE_CITY_PHONE,
        "heatwave_line": HEATWAVE_LINE,
    },
}
"""What a demo server holds (``is_sample``): printed, and said to be the sample, until a
coordinator types the real values."""

_LABELS = {name: contract.field_label("city_details", name) for name in EDITABLE_FIELDS}


def label(name: str) -> str:
    return _LABELS[name]


def row_problems(row_id: str, row: Mapping[str, Any]) -> dict[str, str]:
    """The cross-field problems of a whole row (after the contract's checks of each field)."""
    problems: dict[str, str] = {}
    if row_id == CITY_ROW:
        if row.get("territory_id"):
            problems["territory_id"] = (
                f"{label('territory_id')} : la ligne « {CITY_ROW} » vaut pour toute la Ville, "
                "sans territoire."
            )
        return problems
    for name in CITY_WIDE_FIELDS:
        if row.get(name):
            problems[name] = (
                f"{label(name)} : vaut pour toute la Ville, il se renseigne sur la ligne "
                f"« {CITY_ROW} », pas sur un accueil."
            )
    if not row.get("desk_name"):
        problems["desk_name"] = f"{label('desk_name')} : ce champ est obligatoire pour un accueil."
    return problems


def display_phone(number: str) -> str:
    """A number as printed: ``02 35 19 45 45``, and a free or special number the way the French
    write it, ``0 800 06 66 66``. A value that is not a French number is printed as stored."""
    try:
        normal = normalise_phone(number)
    except ValueError:
        return number
    digits = normal.replace(" ", "")
    if digits.startswith("08"):
        return f"{digits[0]} {digits[1:4]} {digits[4:6]} {digits[6:8]} {digits[8:10]}"
    return normal
