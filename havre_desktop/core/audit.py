"""Audit trail: who opened, printed or exported what, by id only.

Entries never contain personal data (no names, no notes): the entity and its
UUID are enough for an auditor with access to the server. They are sent up at
sync and removed locally once acknowledged; they are not "changes waiting".
"""

from __future__ import annotations

import json
import logging
from typing import Any

from havre_desktop.core.workspace import Workspace, new_id

log = logging.getLogger("havre.core.audit")

EVENTS = frozenset(
    {
        "fiche-ouverte",
        "impression",
        "export",
        "profil-cree",
        "profil-deverrouille",
        "profil-recupere",
    }
)


EVENT_LABELS = {
    "fiche-ouverte": "Fiche ouverte",
    "impression": "Impression",
    "export": "Export",
    "profil-cree": "Profil créé",
    "profil-deverrouille": "Profil déverrouillé",
    "profil-recupere": "Profil récupéré",
    # Written by the server itself.
    "appareil-revoque": "Appareil révoqué",
    "effacement-rgpd": "Effacement (RGPD)",
    "acces-personne": "Accès aux données d'une personne (RGPD)",
    "agent-cree": "Agent créé",
    "agent-modifie": "Agent modifié (rôle, territoires…)",
    "compte-desactive": "Compte désactivé",
    "compte-reactive": "Compte réactivé",
    "mot-de-passe-reinitialise": "Mot de passe réinitialisé",
    "coordonnees-ville": "Coordonnées de la Ville modifiées",
    "rues-importees": "Liste des rues chargée",
    "campagne-lancee": "Campagne d'alerte lancée (listes d'appels)",
    "campagne-reattribuee": "Appels d'une campagne réattribués",
    "campagne-close": "Campagne d'alerte close",
}
"""What the audit viewer shows for each event (the server's own events included)."""


def record(
    ws: Workspace,
    event: str,
    entity: str | None = None,
    entity_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> str:
    """Write one audit entry (joins the current transaction if there is one)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    entry_id = new_id()
    with ws.store.transaction() as conn:
        conn.execute(
            "INSERT INTO audit_log (id, at, agent_id, event, entity, entity_id, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry_id,
                ws.clock.now_iso(),
                ws.agent_id,
                event,
                entity,
                entity_id,
                json.dumps(detail or {}, ensure_ascii=False),
            ),
        )
    return entry_id


def entries(ws: Workspace, entity_id: str | None = None) -> list[dict[str, Any]]:
    if entity_id is None:
        return ws.store.query("SELECT * FROM audit_log ORDER BY at, rowid")
    return ws.store.query(
        "SELECT * FROM audit_log WHERE entity_id = ? ORDER BY at, rowid", (entity_id,)
    )
