"""Build every kind of print on demo data and save page 1 of each as a PNG (docs/prints/).

.venv/bin/python scripts/render_prints.py [--out docs/prints] [--dpi 70] [--keep-pdf DOSSIER]

Uses throwaway encrypted profiles (clearly fake demo data, fixed date) and
poppler's pdftoppm for the pictures. The PNGs are for people to look at: in
the README, and when changing the layout (open them before committing).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from havre_desktop.core import agents, visits
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.keys import new_database_key
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import handouts, letters, record, report
from havre_desktop.printing.layout import Variant

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


def _png(pdf: Path, out: Path, name: str, dpi: int) -> Path:
    target = out / name
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", str(dpi), "-png", "-singlefile", str(pdf)],
        check=True,
        stdout=target.open("wb"),
    )
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/prints", type=Path)
    parser.add_argument("--dpi", default=70, type=int)
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
        chosen = _senior_actions(worker, "nord", 4)
        documents: dict[str, bytes] = {
            "fiche-personnelle-16pt": record.give_personal_handout(
                worker, person, chosen, variant=Variant.LARGE, message=MESSAGE
            ).pdf,
            "fiche-personnelle-22pt": record.give_personal_handout(
                worker, person, chosen, variant=Variant.VERY_LARGE, alert=True
            ).pdf,
            "fiche-accueil": handouts.reception_handout_for(
                worker,
                chosen[:2],
                facility_id=worker.store.scalar(
                    "SELECT id FROM facilities WHERE kind_id = 'mairie-annexe' "
                    "AND territory_id = 'nord' ORDER BY name LIMIT 1"
                ),
            ),
            "programme-territoire": handouts.territory_programme_for(worker, "nord"),
        }
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
            "lettre-programme-ete": (
                worker,
                letters.LetterKind.PROGRAMME_ETE,
                letters.FollowedBy(str(worker.agent_id)),
            ),
        }
        for name, (ws, kind, source) in batches.items():
            result = letters.write_letters(ws, kind, source, pdfs / f"{name}.pdf")
            print(f"{name}: {result.done} lettres, {result.pages} pages", file=sys.stderr)
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
