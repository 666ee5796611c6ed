"""Build every kind of print on demo data, at 16 and 22 pt, and save each as a PNG of its
pages side by side (docs/prints/): a letter batch shows its first letter.

.venv/bin/python scripts/render_prints.py [--out docs/prints] [--dpi 50] [--keep-pdf DOSSIER]

Uses throwaway encrypted profiles (clearly fake demo data, fixed date) and
poppler's pdftoppm for the pictures. The PNGs are for people to look at: in
the README, and when changing the layout (open them before committing).
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from havre_desktop.core import agents, contacts, register, visits
from havre_desktop.core import campaign as core_campaign
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.keys import new_database_key
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import (
    call_sheet,
    campaign_report,
    handouts,
    letters,
    record,
    register_export,
    register_letters,
    report,
)
from havre_desktop.printing.layout import Variant
from scripts.campaign_screenshots import demo_days, seed_campaign

NOW = datetime(2026, 6, 17, 9, 30, tzinfo=UTC)  # a Wednesday in June, before summer
SIZE = DemoSize(persons=1_500, organisations=20, visits=12_000)
COORDINATOR: dict[str, Any] = {
    "display_name": "Jordan Coordination (fictif)",
    "role": "coordinateur",
    "territory_ids": ["nord", "centre-ouest", "centre-est", "est", "sud"],
    "work_phone": "02 61 91 00 20",
}
MESSAGE = (
    "Bonjour Madame Lefèvre,\n\n"
    "Comme promis, voici les activités dont nous avons parlé mardi. "
    "Le repas du mercredi est à deux rues de chez vous, et le transport adapté "
    "peut venir vous chercher."
)


def _workspace(root: Path, owner: dict[str, Any] | None) -> Workspace:
    ws = Workspace(Store.create(root / "havre.db", new_database_key()), clock=FixedClock(NOW))
    if owner is not None:
        agents.create_owner(ws, owner)
    seed_demo(ws, SIZE)
    return ws


def _senior_actions(ws: Workspace, territory: str, count: int) -> list[str]:
    rows = ws.store.query(
        "SELECT id FROM actions WHERE status IN ('en-cours', 'en-test') AND "
        "EXISTS (SELECT 1 FROM json_each(audience_ids) WHERE value = 'seniors') AND "
        "EXISTS (SELECT 1 FROM json_each(territory_ids) WHERE value = ?) ORDER BY title LIMIT ?",
        (territory, count),
    )
    return [str(r["id"]) for r in rows]


MAX_PAGES_SHOWN = 4


def _first_document_pages(pdf: Path) -> int:
    """Pages of the first document in the file (a batch holds many letters)."""
    import pypdf  # a dev dependency, like this script

    first = pypdf.PdfReader(pdf).pages[0].extract_text() or ""
    found = re.search(r"Page 1 sur (\d+)", first)
    return int(found.group(1)) if found else len(pypdf.PdfReader(pdf).pages)


def _png(pdf: Path, out: Path, name: str, dpi: int) -> Path:
    """The first document's pages side by side on one picture, with a grey gap between."""
    from PIL import Image  # Pillow comes with reportlab

    pages = []
    # A booklet shows its first pages only (the picture would be too wide to read).
    for number in range(1, min(_first_document_pages(pdf), MAX_PAGES_SHOWN) + 1):
        page = ["-f", str(number), "-l", str(number)]
        image = subprocess.run(
            ["pdftoppm", *page, "-r", str(dpi), "-png", "-singlefile", str(pdf)],
            check=True,
            capture_output=True,
        ).stdout
        pages.append(Image.open(io.BytesIO(image)).convert("RGB"))
    gap = 12
    width = sum(page.width for page in pages) + gap * (len(pages) - 1)
    sheet = Image.new("RGB", (width, max(page.height for page in pages)), (160, 160, 160))
    x = 0
    for page in pages:
        sheet.paste(page, (x, 0))
        x += page.width + gap
    target = out / name
    sheet.save(target, optimize=True)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/prints", type=Path)
    parser.add_argument("--dpi", default=50, type=int)
    parser.add_argument("--keep-pdf", type=Path, help="also keep the PDFs in this folder")
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        print("pdftoppm est introuvable : installez poppler-utils.", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="havre-prints-") as tmp:
        folder = Path(tmp)
        pdfs = args.keep_pdf or folder / "pdf"
        pdfs.mkdir(parents=True, exist_ok=True)
        worker = _workspace(folder / "agent", None)  # the demo social worker, Camille Démo
        coordinator = _workspace(folder / "coordination", COORDINATOR)
        person = str(
            worker.store.scalar("SELECT id FROM contacts WHERE family_name = 'Lefèvre' LIMIT 1")
        )
        visits.plan_contact(worker, person, {"due_on": "2026-06-30", "kind": "visite"})
        chosen = _senior_actions(worker, "nord", 3)
        arabic = str(
            contacts.create_person(
                worker,
                {
                    "family_name": "بن علي",
                    "given_names": "أمينة",
                    "territory_id": "nord",
                    "address_line": "12 rue de l'Essai (fictive)",
                    "postcode": "76620",
                },
            )["id"]
        )
        reception = worker.store.scalar(
            "SELECT id FROM facilities WHERE kind_id = 'mairie-annexe' "
            "AND territory_id = 'nord' ORDER BY name LIMIT 1"
        )
        documents: dict[str, bytes] = {}
        for variant, size in ((Variant.LARGE, "16pt"), (Variant.VERY_LARGE, "22pt")):
            documents[f"fiche-personnelle-{size}"] = record.give_personal_handout(
                worker, person, chosen, variant=variant, message=MESSAGE
            ).pdf
            documents[f"fiche-personnelle-alerte-{size}"] = record.give_personal_handout(
                worker, person, chosen[:2], variant=variant, alert=True
            ).pdf
            documents[f"fiche-personnelle-arabe-{size}"] = record.give_personal_handout(
                worker, arabic, chosen[:2], variant=variant
            ).pdf
            documents[f"fiche-accueil-{size}"] = handouts.reception_handout_for(
                worker, chosen[:2], facility_id=reception, variant=variant
            )
            documents[f"programme-territoire-{size}"] = handouts.territory_programme_for(
                worker, "nord", variant=variant
            )
        for need in ("isolement", "numerique", "demarches", "isolement", "loisirs", "mobilite"):
            for territory in ("nord", "est", "sud"):
                visits.count_encounter(coordinator, {"territory_id": territory, "need_id": need})
        given = coordinator.store.query(
            "SELECT id FROM contacts WHERE kind = 'person' ORDER BY id LIMIT 24"
        )
        for index, row in enumerate(given):
            territory_actions = _senior_actions(coordinator, "nord", 6)
            record.give_personal_handout(
                coordinator, str(row["id"]), territory_actions[index % 3 : index % 3 + 3]
            )
        documents["rapport-activite"] = report.activity_report_for(
            coordinator, date(2026, 1, 1), date(2026, 6, 17)
        )
        batches: dict[str, tuple[Workspace, letters.LetterKind, letters.RecipientSource]] = {
            "lettre-canicule": (
                coordinator,
                letters.LetterKind.CONSEILS_CANICULE,
                letters.RegisterOf("nord"),
            ),
            "lettre-grand-froid": (
                coordinator,
                letters.LetterKind.CONSEILS_GRAND_FROID,
                letters.RegisterOf("nord"),
            ),
            "lettre-programme-ete": (
                worker,
                letters.LetterKind.PROGRAMME_ETE,
                letters.FollowedBy(str(worker.agent_id)),
            ),
        }
        for name, (ws, kind, source) in batches.items():
            for variant, size in ((Variant.LARGE, "16pt"), (Variant.VERY_LARGE, "22pt")):
                target = pdfs / f"{name}-{size}.pdf"
                result = letters.write_letters(ws, kind, source, target, variant=variant)
                print(
                    f"{target.stem}: {result.done} lettres, {result.pages} pages", file=sys.stderr
                )
        # The register's acknowledgment (a third party's written request, Mme Lefèvre's son).
        lefevre = str(
            coordinator.store.scalar(
                "SELECT id FROM contacts WHERE family_name = 'Lefèvre' AND given_names = 'Jeanne' "
                "LIMIT 1"
            )
        )
        current = register.active_enrolment(coordinator, lefevre)
        if current is not None:
            register.remove(coordinator, str(current["id"]), "2026-06-10", "Démonstration")
        enrolment = register.enrol(
            coordinator,
            lefevre,
            {
                "requested_on": "2026-06-15",
                "requested_by": "tiers",
                "requester_name": "Paul Lefèvre (fictif)",
                "requester_relation": "fils",
                "written_request": True,
                "floor": 4,
                "lift": False,
                "notice_how": "courrier",
            },
        )
        for variant, size in ((Variant.LARGE, "16pt"), (Variant.VERY_LARGE, "22pt")):
            documents[f"registre-accuse-reception-{size}"] = register_letters.register_letter_pdf(
                coordinator, str(enrolment["id"]), "accuse", variant=variant
            )
        # The register passed to the préfet (alert plan), one territory.
        documents["registre-prefet"] = register_export.prefect_export(coordinator, ["nord"]).pdf
        # An alert campaign (as the server would have built it): a call sheet and the report.
        campaign_id = seed_campaign(coordinator, list(COORDINATOR["territory_ids"]))
        owner = str(coordinator.agent_id)
        documents["feuille-appels"] = call_sheet.call_sheet_for(coordinator, campaign_id, owner)
        row = core_campaign.get_campaign(coordinator, campaign_id)
        documents["rapport-campagne"] = campaign_report.campaign_report_pdf(
            campaign_report.report_data(
                {**row, "closed_on": NOW.date().isoformat()},
                coordinator.reference("territories"),
                core_campaign.local_progress(coordinator, campaign_id),
                demo_days(coordinator, campaign_id),
                NOW.date(),
                "Données fictives de démonstration.",
            )
        )
        for name, pdf in documents.items():
            (pdfs / f"{name}.pdf").write_bytes(pdf)
        for path in sorted(pdfs.glob("*.pdf")):
            png = _png(path, args.out, f"{path.stem}.png", args.dpi)
            print(f"{png} ({png.stat().st_size // 1024} Ko)", file=sys.stderr)
        worker.store.close()
        coordinator.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
