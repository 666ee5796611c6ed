"""The register of vulnerable persons (CASF L121-6-1, R121-2 to R121-12): enrolment.

The legal rules, in code:

* **Eligibility** from the objective criteria only (R121-2): living at home, and 65 or over;
  or 60 or over and recognised unfit for work; or a disabled adult receiving one of the
  benefits or holding one of the cards of the reference list ``register_benefits``. No
  supporting document is asked: the form records what the person or the requester says.
* **Who asks** (R121-3): the person, their legal representative, or a third party in
  writing (name, relation). A third party's request stands unless the person objects
  (since 2024): the enrolment is valid at once, its consent is a *non-objection*, and an
  objection, when it comes, is recorded and ends it. Lists transmitted by the département or
  a pension fund (``import_transmitted``) are "à informer": each person gets a letter and is
  enrolled after the delay unless she objects (``confirm_due``).
* **Information notice** (sole purpose, optional, recipients, rights): recorded as given
  (handed over, posted, read out); its text is printed with the acknowledgment letter.
* **Acknowledgment** (R121-5): due 8 days after the request; listed in *Ma journée* until
  printed (``acknowledgments_due``; ``mark_printed``).
* **Removal** at any time, on request, with its own letter (also listed until printed).
* Each step is an event of the append-only history (``register_events``).

Only agents with the register right (``agents.has_register_right``) enrol, see or change
anything here; the register serves the alert plan alone (``contract.check_purpose``).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from havre_common import contract
from havre_common.values import parse_date
from havre_desktop.core import agents, contacts
from havre_desktop.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from havre_desktop.core.validation import Checker
from havre_desktop.core.workspace import Workspace, decode_row

log = logging.getLogger("havre.core.register")

ACK_DAYS = 8
"""The acknowledgment of a request is sent within 8 days (R121-5)."""
DEFAULT_INFORM_DAYS = 30
"""Default delay before a transmitted person is enrolled unless she objects (a setting)."""
INFORM_DAYS_SETTING = "register_inform_days"
ACTIVE = ("inscrite", "a-informer")

RIGHT_NEEDED = (
    "Votre compte n'a pas accès au registre des personnes vulnérables : demandez ce droit à "
    "votre coordinateur."
)


def require_right(ws: Workspace) -> None:
    if not agents.has_register_right(ws):
        raise PermissionDeniedError(RIGHT_NEEDED)


# -- eligibility ---------------------------------------------------------------------------


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def eligibility(
    *,
    birth_date: date | None,
    today: date,
    lives_at_home: bool,
    unfit_for_work: bool = False,
    benefit: str | None = None,
    benefits: dict[str, str] | None = None,
) -> str:
    """The basis (``register_bases``) on which a person may be enrolled; ValidationError with
    the reason in French when none applies. Objective criteria only."""
    if not lives_at_home:
        raise ValidationError(
            {"lives_at_home": "Le registre concerne les personnes qui vivent à domicile."}
        )
    age = age_on(birth_date, today) if birth_date is not None else None
    if age is not None and age >= 65:
        return "65-plus"
    if age is not None and age >= 60 and unfit_for_work:
        return "60-inapte"
    if benefit:
        if benefits is not None and benefit not in benefits:
            raise ValidationError({"benefit": f"Prestation ou carte inconnue « {benefit} »."})
        if age is not None and age < 18:
            raise ValidationError(
                {"benefit": "Le registre concerne les adultes handicapés (18 ans ou plus)."}
            )
        return "handicap"
    if birth_date is None:
        raise ValidationError(
            {
                "birth_date": "Date de naissance : nécessaire pour vérifier l'âge (65 ans, ou "
                "60 ans et inapte au travail), sauf pour un adulte handicapé bénéficiaire "
                "d'une prestation ou d'une carte de la liste."
            }
        )
    raise ValidationError(
        {
            "basis": f"Cette personne a {age} ans : le registre concerne les personnes de 65 "
            "ans ou plus, de 60 ans ou plus reconnues inaptes au travail, ou les adultes "
            "handicapés bénéficiaires d'une prestation ou d'une carte de la liste."
        }
    )


# -- reading -------------------------------------------------------------------------------


def active_enrolment(ws: Workspace, person_id: str) -> dict[str, Any] | None:
    """The person's current enrolment (enrolled, or to be informed), if any."""
    row = ws.store.query_one(
        "SELECT * FROM register_enrolments WHERE person_id = ? AND deleted = 0 "
        "AND status IN ('inscrite', 'a-informer') ORDER BY requested_on DESC LIMIT 1",
        (person_id,),
    )
    return None if row is None else decode_row(row)


def latest_enrolment(ws: Workspace, person_id: str) -> dict[str, Any] | None:
    """The person's latest enrolment, whatever its state (the fiche shows it)."""
    row = ws.store.query_one(
        "SELECT * FROM register_enrolments WHERE person_id = ? AND deleted = 0 "
        "ORDER BY requested_on DESC, updated_at DESC LIMIT 1",
        (person_id,),
    )
    return None if row is None else decode_row(row)


def enrolled_ids(ws: Workspace, person_ids: list[str], purpose: str | None) -> set[str]:
    """Which of these persons are on the register now. Only the alert plan may ask."""
    contract.check_purpose(contract.REGISTER_TABLES, purpose)
    found: set[str] = set()
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        found.update(
            str(r["person_id"])
            for r in ws.store.query(
                "SELECT DISTINCT person_id FROM register_enrolments WHERE deleted = 0 "
                f"AND status = 'inscrite' AND person_id IN ({marks})",
                tuple(chunk),
            )
        )
    return found


def history(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    """The steps of the person's register history, oldest first."""
    require_right(ws)
    rows = ws.store.query(
        "SELECT * FROM register_events WHERE person_id = ? AND deleted = 0 "
        "ORDER BY occurred_on, created_at",
        (person_id,),
    )
    return [decode_row(r) for r in rows]


def get(ws: Workspace, enrolment_id: str) -> dict[str, Any]:
    row = ws.store.query_one(
        "SELECT * FROM register_enrolments WHERE id = ? AND deleted = 0", (enrolment_id,)
    )
    if row is None:
        raise NotFoundError("Inscription au registre introuvable.")
    return decode_row(row)


# -- writing -------------------------------------------------------------------------------


def _event(
    ws: Workspace, enrolment: dict[str, Any], event: str, on: str, note: str | None = None
) -> None:
    ws.write_row(
        "register_events",
        {
            "enrolment_id": enrolment["id"],
            "person_id": enrolment["person_id"],
            "event": event,
            "occurred_on": on,
            "agent_id": ws.agent_id,
            "note": note,
            "created_at": ws.clock.now_iso(),
        },
    )


def _bool(values: dict[str, Any], name: str) -> bool:
    return bool(values.get(name))


def enrol(ws: Workspace, person_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Enrol a person on a request received by the City (fiche, Accueil).

    ``values``: requested_on, requested_by (personne / representant / tiers),
    requester_name, requester_relation, written_request, consent_given (the person's or her
    representative's), lives_at_home, unfit_for_work, benefit, floor, lift, help_at_home,
    help_service, lives_alone, mobility (written to the fiche), notice_how (the information
    notice given: remise / courrier / lue; empty: not yet).
    Nothing is saved unless everything is valid (one transaction).
    """
    require_right(ws)
    person = ws.get_row("contacts", person_id)
    if person.get("kind") != "person" or person.get("deleted"):
        raise ValidationError({"person_id": "Seule une personne peut être inscrite au registre."})
    today = ws.clock.today()
    check = Checker()
    requested_on = check.date(
        values, "requested_on", "Date de la demande", today=today, required=True, not_future=True
    )
    requesters = {k: v for k, v in contract.enum_values("requesters").items() if k != "organisme"}
    requested_by = check.choice(values, "requested_by", "Demande faite par", requesters)
    requester_name = check.optional_text(values, "requester_name")
    relation = check.optional_text(values, "requester_relation")
    written = _bool(values, "written_request")
    consent = _bool(values, "consent_given")
    if requested_by in ("representant", "tiers") and not requester_name:
        check.fail(
            "requester_name",
            "Nom du demandeur : obligatoire quand un autre que la personne fait la demande.",
        )
    if requested_by == "tiers":
        if not relation:
            check.fail(
                "requester_relation",
                "Lien avec la personne : obligatoire pour la demande d'un tiers.",
            )
        if not written:
            check.fail(
                "written_request",
                "La demande d'un tiers se fait par écrit : cochez « Demande écrite reçue » "
                "quand vous l'avez.",
            )
    elif requested_by is not None and not consent:
        who = "de la personne" if requested_by == "personne" else "de son représentant légal"
        check.fail(
            "consent_given",
            f"Le consentement {who} est obligatoire pour l'inscription au registre.",
        )
    floor = check.integer(values, "floor", "Étage", minimum=-2, maximum=60)
    help_service = check.optional_text(values, "help_service")
    notice_how = check.choice(
        values,
        "notice_how",
        "Notice d'information",
        contract.enum_values("notice_modes"),
        required=False,
    )
    mobility = check.choice(
        values, "mobility", "Mobilité", ws.reference("mobility_levels"), required=False
    )
    birth = parse_date(person.get("birth_date")) if person.get("birth_date") else None
    basis: str | None = None
    try:
        basis = eligibility(
            birth_date=birth,
            today=today,
            lives_at_home=bool(values.get("lives_at_home", True)),
            unfit_for_work=_bool(values, "unfit_for_work"),
            benefit=values.get("benefit") or None,
            benefits=ws.reference("register_benefits"),
        )
    except ValidationError as exc:
        for field_name, message in exc.errors.items():
            check.fail(field_name, message)
    if not check.errors and active_enrolment(ws, person_id) is not None:
        check.fail("person_id", "Cette personne est déjà inscrite au registre.")
    check.raise_if_any()
    assert requested_on is not None and basis is not None
    due = (date.fromisoformat(requested_on) + timedelta(days=ACK_DAYS)).isoformat()
    lift = values.get("lift")
    with ws.store.transaction():
        row = ws.write_row(
            "register_enrolments",
            {
                "person_id": person_id,
                "status": "inscrite",
                "requested_on": requested_on,
                "enrolled_on": requested_on,
                "basis": basis,
                "source": "saisie",
                "requested_by": requested_by,
                "requester_name": requester_name if requested_by != "personne" else None,
                "requester_relation": relation if requested_by != "personne" else None,
                "written_request": int(written),
                "consent_given": int(consent and requested_by != "tiers"),
                "consent_date": requested_on if consent and requested_by != "tiers" else None,
                "floor": floor,
                "lift": None if lift is None else int(bool(lift)),
                "help_at_home": int(_bool(values, "help_at_home")),
                "help_service": help_service if _bool(values, "help_at_home") else None,
                "notice_given_on": today.isoformat() if notice_how else None,
                "notice_how": notice_how,
                "ack_due_on": due,
                "updated_at": ws.clock.now_iso(),
            },
        )
        fiche_changes: dict[str, Any] = {}
        if "lives_alone" in values and values["lives_alone"] is not None:
            fiche_changes["lives_alone"] = int(bool(values["lives_alone"]))
        if mobility is not None:
            fiche_changes["mobility"] = mobility
        role = agents.current_role(ws)
        fiche_changes = {
            k: v
            for k, v in fiche_changes.items()
            if person.get(k) != v
            # A reception agent does not hold the situation at home of the fiche.
            and role in (contract.CONTACTS.field(k).writers or contract.CONTACTS.writers)
        }
        if fiche_changes:
            ws.update_row(
                "contacts", person_id, {**fiche_changes, "updated_at": ws.clock.now_iso()}
            )
        note = None
        if requested_by != "personne":
            note = f"{requesters[str(requested_by)]} : {requester_name}" + (
                f" ({relation})" if relation else ""
            )
        _event(ws, row, "demande", requested_on, note)
        _event(
            ws,
            row,
            "inscription",
            requested_on,
            "Sans opposition de la personne (demande d'un tiers)"
            if requested_by == "tiers"
            else None,
        )
        if notice_how:
            _event(
                ws,
                row,
                "notice",
                today.isoformat(),
                contract.enum_values("notice_modes")[notice_how],
            )
    log.info("register enrolment created enrolment=%s", row["id"])
    return get(ws, row["id"])


def _change(ws: Workspace, enrolment_id: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    require_right(ws)
    enrolment = get(ws, enrolment_id)
    if enrolment["status"] not in allowed:
        label = contract.enum_values("register_statuses")[enrolment["status"]]
        raise ValidationError({"status": f"Cette inscription est déjà dans l'état « {label} »."})
    return enrolment


def record_objection(ws: Workspace, enrolment_id: str, on: str, note: str = "") -> dict[str, Any]:
    """The person objects (third-party request, transmitted list): she is not on the register."""
    enrolment = _change(ws, enrolment_id, ACTIVE)
    check = Checker()
    day = check.date(
        {"on": on},
        "on",
        "Date de l'opposition",
        today=ws.clock.today(),
        required=True,
        not_future=True,
    )
    check.raise_if_any()
    assert day is not None
    with ws.store.transaction():
        ws.update_row(
            "register_enrolments",
            enrolment_id,
            {"status": "opposee", "objected_on": day, "updated_at": ws.clock.now_iso()},
        )
        _event(ws, enrolment, "opposition", day, note.strip() or None)
    return get(ws, enrolment_id)


def remove(ws: Workspace, enrolment_id: str, removed_on: str, reason: str) -> dict[str, Any]:
    """Removal at any time, on request; a removal letter is then due (Ma journée)."""
    enrolment = _change(ws, enrolment_id, ACTIVE)
    check = Checker()
    day = check.date(
        {"removed_on": removed_on},
        "removed_on",
        "Date de radiation",
        today=ws.clock.today(),
        required=True,
        not_future=True,
    )
    text = check.required_text({"reason": reason}, "reason", "Motif de radiation")
    check.raise_if_any()
    assert day is not None
    with ws.store.transaction():
        ws.update_row(
            "register_enrolments",
            enrolment_id,
            {
                "status": "radiee",
                "removed_on": day,
                "removal_reason": text,
                "updated_at": ws.clock.now_iso(),
            },
        )
        _event(ws, enrolment, "radiation", day, text)
    return get(ws, enrolment_id)


def record_notice(ws: Workspace, enrolment_id: str, how: str) -> dict[str, Any]:
    """The information notice (sole purpose, optional, recipients, rights) given."""
    require_right(ws)
    enrolment = get(ws, enrolment_id)
    modes = contract.enum_values("notice_modes")
    if how not in modes:
        raise ValidationError({"notice_how": "Choisissez comment la notice a été remise."})
    today = ws.clock.today().isoformat()
    with ws.store.transaction():
        ws.update_row(
            "register_enrolments",
            enrolment_id,
            {"notice_given_on": today, "notice_how": how, "updated_at": ws.clock.now_iso()},
        )
        _event(ws, enrolment, "notice", today, modes[how])
    return get(ws, enrolment_id)


# -- letters due (Ma journée) ----------------------------------------------------------------


@dataclass(frozen=True)
class LetterDue:
    enrolment_id: str
    person_id: str
    name: str
    kind: str  # accuse | radiation | information
    due_on: date
    overdue: bool


LETTER_LABELS = {
    "accuse": "Accusé de réception (registre)",
    "radiation": "Lettre de radiation (registre)",
    "information": "Lettre d'information (registre, liste transmise)",
}


def letters_due(ws: Workspace) -> list[LetterDue]:
    """Register letters to print: acknowledgments (due 8 days after the request), removal
    letters, information letters to transmitted persons. Empty without the register right."""
    if not agents.has_register_right(ws):
        return []
    today = ws.clock.today()
    rows = ws.store.query(
        "SELECT r.id, r.person_id, r.status, r.ack_due_on, r.removed_on, r.requested_on, "
        "r.ack_printed_on, r.removal_letter_printed_on, c.family_name, c.given_names "
        "FROM register_enrolments r JOIN contacts c ON c.id = r.person_id "
        "WHERE r.deleted = 0 AND c.deleted = 0 AND ("
        " (r.ack_printed_on IS NULL AND r.status IN ('inscrite', 'a-informer'))"
        " OR (r.status = 'radiee' AND r.removal_letter_printed_on IS NULL)) "
        "ORDER BY r.ack_due_on, r.requested_on"
    )
    due: list[LetterDue] = []
    for r in rows:
        name = f"{str(r['family_name'] or '').upper()} {r['given_names'] or ''}".strip()
        # An objection or a removal before the acknowledgment: the letter would be wrong.
        if r["ack_printed_on"] is None and r["status"] in ACTIVE:
            kind = "information" if r["status"] == "a-informer" else "accuse"
            day = date.fromisoformat(str(r["ack_due_on"] or r["requested_on"]))
            due.append(LetterDue(str(r["id"]), str(r["person_id"]), name, kind, day, day < today))
        if r["status"] == "radiee" and r["removal_letter_printed_on"] is None:
            day = date.fromisoformat(str(r["removed_on"]))
            due.append(
                LetterDue(str(r["id"]), str(r["person_id"]), name, "radiation", day, day < today)
            )
    due.sort(key=lambda d: (d.due_on, d.name))
    return due


def mark_printed(ws: Workspace, enrolment_id: str, kind: str) -> dict[str, Any]:
    """The letter was printed (or saved): it leaves Ma journée; a step of the history."""
    require_right(ws)
    enrolment = get(ws, enrolment_id)
    today = ws.clock.today().isoformat()
    column, event = {
        "accuse": ("ack_printed_on", "accuse-imprime"),
        "information": ("ack_printed_on", "lettre-information"),
        "radiation": ("removal_letter_printed_on", "lettre-radiation"),
    }[kind]
    with ws.store.transaction():
        ws.update_row(
            "register_enrolments", enrolment_id, {column: today, "updated_at": ws.clock.now_iso()}
        )
        _event(ws, enrolment, event, today)
    return get(ws, enrolment_id)


# -- lists transmitted by another body ------------------------------------------------------

_CSV_COLUMN = {
    "family_name": "nom",
    "given_names": "prenom",
    "birth_date": "date_naissance",
    "address_line": "adresse",
    "postcode": "code_postal",
    "city": "ville",
    "phone_1": "telephone",
}
IMPORT_COLUMNS = (
    "nom",
    "prenom",
    "date_naissance",
    "adresse",
    "code_postal",
    "ville",
    "telephone",
    "motif",
)


@dataclass(frozen=True)
class ImportProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"Ligne {self.line}, colonne « {self.column} » : {self.message}"


class ImportRefusedError(ValidationError):
    """The file has problems: nothing was imported."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__({"fichier": "\n".join(str(p) for p in problems)})
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    created_persons: int
    matched_persons: int
    to_inform: int
    already: int
    inform_until: date


def inform_days(ws: Workspace) -> int:
    raw = ws.store.get_setting(INFORM_DAYS_SETTING)
    try:
        return max(1, int(raw)) if raw else DEFAULT_INFORM_DAYS
    except ValueError:
        return DEFAULT_INFORM_DAYS


def import_transmitted(ws: Workspace, text: str, source: str, territory_id: str) -> ImportResult:
    """Import a list transmitted by the département or a pension fund (CSV, ``;`` or ``,``,
    columns ``IMPORT_COLUMNS``): each person is "à informer" and is enrolled after the delay
    (setting ``register_inform_days``) unless she objects. Every problem is reported (line,
    column, French message) and then nothing is imported."""
    require_right(ws)
    if source not in ("departement", "caisse-retraite"):
        raise ValidationError(
            {"source": "Origine de la liste : département ou caisse de retraite."}
        )
    if territory_id not in ws.reference("territories"):
        raise ValidationError({"territory_id": "Territoire : choisissez un territoire connu."})
    dialect = ";" if text.count(";") >= text.count(",") else ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [
        c for c in ("nom", "prenom", "date_naissance", "adresse", "motif") if c not in header
    ]
    if missing:
        raise ImportRefusedError(
            [ImportProblem(1, c, "colonne obligatoire absente de l'en-tête.") for c in missing]
        )
    today = ws.clock.today()
    bases = ws.reference("register_bases")
    problems: list[ImportProblem] = []
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(reader, start=2):
        line = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        for column in ("nom", "prenom", "adresse"):
            if not line.get(column):
                problems.append(ImportProblem(number, column, "valeur obligatoire manquante."))
        birth: date | None = None
        try:
            birth = parse_date(line.get("date_naissance"))
            if birth is None:
                problems.append(
                    ImportProblem(number, "date_naissance", "valeur obligatoire manquante.")
                )
            elif birth > today:
                problems.append(ImportProblem(number, "date_naissance", "date dans le futur."))
        except ValueError as exc:
            problems.append(ImportProblem(number, "date_naissance", str(exc)))
        basis = line.get("motif", "")
        if basis not in bases:
            problems.append(
                ImportProblem(
                    number, "motif", f"valeur inconnue « {basis} » (attendu : {', '.join(bases)})."
                )
            )
        person_values = {
            "family_name": line.get("nom"),
            "given_names": line.get("prenom"),
            "birth_date": birth.isoformat() if birth else None,
            "address_line": line.get("adresse"),
            "postcode": line.get("code_postal") or None,
            "city": line.get("ville") or None,
            "territory_id": territory_id,
            "phone_1": line.get("telephone") or None,
        }
        try:
            if birth is not None and line.get("nom") and line.get("prenom"):
                person_values = contacts.clean_person(ws, person_values)
        except ValidationError as exc:
            for field_name, message in exc.errors.items():
                problems.append(
                    ImportProblem(number, _CSV_COLUMN.get(field_name, field_name), message)
                )
        rows.append({**line, "birth": birth, "basis": basis, "person": person_values})
    if not rows and not problems:
        problems.append(ImportProblem(2, "nom", "le fichier ne contient aucune personne."))
    if problems:
        raise ImportRefusedError(problems)
    days = inform_days(ws)
    until = today + timedelta(days=days)
    created = matched = informed = already = 0
    # The persons already known, by name and birth date (one read, not one per line).
    births = sorted({line["birth"].isoformat() for line in rows})
    known: dict[tuple[str, str, str], str] = {}
    for start in range(0, len(births), 500):
        chunk = births[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        for r in ws.store.query(
            "SELECT id, family_name, given_names, birth_date FROM contacts WHERE kind = "
            f"'person' AND deleted = 0 AND birth_date IN ({marks})",
            tuple(chunk),
        ):
            key = (
                str(r["family_name"] or "").casefold(),
                str(r["given_names"] or "").casefold(),
                str(r["birth_date"]),
            )
            known.setdefault(key, str(r["id"]))
    with ws.store.transaction():
        for line in rows:
            birth = line["birth"]
            assert birth is not None
            key = (line["nom"].casefold(), line["prenom"].casefold(), birth.isoformat())
            found = {"id": known[key]} if key in known else None
            if found is None:
                person_id = str(contacts.create_person(ws, line["person"])["id"])
                created += 1
            else:
                person_id = str(found["id"])
                matched += 1
            if active_enrolment(ws, person_id) is not None:
                already += 1
                continue
            row = ws.write_row(
                "register_enrolments",
                {
                    "person_id": person_id,
                    "status": "a-informer",
                    "requested_on": today.isoformat(),
                    "basis": line["basis"],
                    "source": source,
                    "requested_by": "organisme",
                    "requester_name": contract.enum_values("register_sources")[source],
                    "consent_given": 0,
                    "inform_until": until.isoformat(),
                    "ack_due_on": (today + timedelta(days=ACK_DAYS)).isoformat(),
                    "updated_at": ws.clock.now_iso(),
                },
            )
            _event(
                ws,
                row,
                "a-informer",
                today.isoformat(),
                contract.enum_values("register_sources")[source],
            )
            informed += 1
    log.info("register import: %d to inform, %d already, %d new fiches", informed, already, created)
    return ImportResult(created, matched, informed, already, until)


def confirm_due(ws: Workspace) -> int:
    """Enrol the transmitted persons whose delay has passed without objection, and whose
    information letter was printed (no one is enrolled without having been told)."""
    if not agents.has_register_right(ws):
        return 0
    today = ws.clock.today().isoformat()
    rows = ws.store.query(
        "SELECT id FROM register_enrolments WHERE deleted = 0 AND status = 'a-informer' "
        "AND inform_until <= ? AND ack_printed_on IS NOT NULL",
        (today,),
    )
    with ws.store.transaction():
        for r in rows:
            enrolment = get(ws, str(r["id"]))
            ws.update_row(
                "register_enrolments",
                enrolment["id"],
                {"status": "inscrite", "enrolled_on": today, "updated_at": ws.clock.now_iso()},
            )
            _event(
                ws, enrolment, "inscription", today, "Sans opposition après le délai d'information"
            )
    return len(rows)
