"""``havre-server``: run the central server and administer it from the server's own shell.

Settings: ``--config FILE`` (or ``$HAVRE_SERVER_CONFIG``, TOML, see havre_server.config), the
environment over the file, command-line options over both. The database is ``--database URL``,
else ``database.url`` (``$HAVRE_SERVER_DATABASE``), else an embedded SQLite file in the data
folder (``--data-dir``, else ``database.data_dir``, else the user data folder). PostgreSQL:
``postgresql://user:password@host:5432/havre`` (driver psycopg 3).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Engine

from havre_common.catalogue_sheet import Problem, read_sheet
from havre_common.catalogue_sheet import report as sheet_report
from havre_common.city import EDITABLE_FIELDS
from havre_common.city import label as city_label
from havre_common.french import count as french_count
from havre_common.protocol import (
    VERSION_PATTERN,
    AgentCreate,
    AgentUpdate,
    CampaignClose,
    CampaignStart,
    CatalogueSheetReport,
)
from havre_common.streets import SAMPLE_STREETS, read_streets
from havre_server import SERVER_VERSION, admin, audit, campaigns, city, config, subject_access
from havre_server import catalogue as catalogue_editing
from havre_server.backup import BackupError
from havre_server.changelog import (
    ACTIVE_DAYS_ENV,
    ChangeBuffer,
    active_days_from_env,
    compact,
    flush,
    ordering_from_env,
)
from havre_server.db import DATABASE_ENV, default_database_url, make_engine
from havre_server.errors import ApiError
from havre_server.metrics import MULTIPROC_ENV
from havre_server.migrations import migrate
from havre_server.reference import install_reference, load_reference
from havre_server.scope import ROLES


def database_url(args: argparse.Namespace) -> str:
    if args.database:
        return str(args.database)
    if os.environ.get(DATABASE_ENV):
        return os.environ[DATABASE_ENV]
    data_dir = args.data_dir or os.environ.get("HAVRE_SERVER_DATA") or user_data_dir("havre-server")
    return default_database_url(Path(data_dir))


def prepare(url: str) -> Engine:
    """Migrate, then load the reference data (both idempotent)."""
    engine = make_engine(url)
    migrate(engine)
    buffer = ChangeBuffer()
    with engine.begin() as conn:
        install_reference(conn, buffer)
        flush(conn, buffer, ordering_from_env())
    return engine


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Mot de passe (confirmation) : ") != first:
        raise SystemExit("Les deux mots de passe diffèrent.")
    return first


def client_version(text: str) -> str:
    """``--min-client-version``: three numbers, as the desktop reports its version."""
    if not re.fullmatch(VERSION_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"version attendue sous la forme 1.2.0 (trois nombres), reçu « {text} »"
        )
    return text


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_init(args: argparse.Namespace) -> None:
    url = database_url(args)
    prepare(url).dispose()
    print("Base prête.")


LOG_LEVEL_ENV = "HAVRE_SERVER_LOG_LEVEL"
MIN_CLIENT_VERSION_ENV = "HAVRE_SERVER_MIN_CLIENT_VERSION"
COMPACT_INTERVAL_ENV = "HAVRE_SERVER_COMPACT_INTERVAL_S"
DEFAULT_COMPACT_INTERVAL_S = 6 * 3600

log = logging.getLogger("havre.server.cli")


def start_compaction(url: str, interval_s: float, active_days: int) -> threading.Event:
    """Compact the change log every ``interval_s`` seconds in a daemon thread of this process
    (the parent of ``--workers``: one compactor per server); set the event to stop it."""
    stop = threading.Event()

    def run() -> None:
        engine = make_engine(url)
        try:
            while not stop.wait(interval_s):
                try:
                    compact(engine, active_days)
                except Exception:  # the next round tries again; serving goes on meanwhile
                    log.exception("change log compaction failed")
        finally:
            engine.dispose()

    threading.Thread(target=run, name="havre-compaction", daemon=True).start()
    return stop


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from havre_server.app import Settings, create_app
    from havre_server.logs import configure

    setting = config.setting
    log_level = args.log_level or setting(LOG_LEVEL_ENV, "info")
    configure(log_level)
    certfile = args.ssl_certfile or setting("HAVRE_SERVER_SSL_CERTFILE")
    keyfile = args.ssl_keyfile or setting("HAVRE_SERVER_SSL_KEYFILE")
    if bool(certfile) != bool(keyfile):
        raise SystemExit("--ssl-certfile et --ssl-keyfile vont ensemble : donnez les deux.")
    url = database_url(args)
    engine = prepare(url)
    options: dict[str, Any] = {
        "host": args.host or setting("HAVRE_SERVER_HOST", "127.0.0.1"),
        "port": args.port or setting("HAVRE_SERVER_PORT", 8765),
        "log_config": None,
        "access_log": False,
        "proxy_headers": args.proxy_headers or setting("HAVRE_SERVER_PROXY_HEADERS", False),
        "forwarded_allow_ips": args.forwarded_allow_ips
        or setting("HAVRE_SERVER_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "server_header": False,
        "ssl_certfile": certfile,
        "ssl_keyfile": keyfile,
    }
    interval = setting(COMPACT_INTERVAL_ENV, float(DEFAULT_COMPACT_INTERVAL_S))
    if interval > 0:
        start_compaction(url, interval, active_days_from_env())
    workers = args.workers or setting("HAVRE_SERVER_WORKERS", 1)
    if workers > 1:
        # Several processes (one per core): each builds its application from the environment.
        engine.dispose()
        shared: str | None = None
        if not os.environ.get(MULTIPROC_ENV):  # the workers' metrics, shared (metrics.py)
            shared = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="havre-metrics-")
        os.environ[DATABASE_ENV] = url
        os.environ[LOG_LEVEL_ENV] = log_level
        if args.min_client_version:
            os.environ[MIN_CLIENT_VERSION_ENV] = args.min_client_version
        try:
            uvicorn.run("havre_server.cli:worker_app", factory=True, workers=workers, **options)
        finally:
            if shared is not None:
                shutil.rmtree(shared, ignore_errors=True)
        return
    settings = Settings.from_env(url, args.min_client_version)
    uvicorn.run(create_app(settings, engine), **options)


def worker_app() -> Any:
    """The application of one worker process of ``serve --workers N`` (settings from the
    environment the parent prepared; the database is already migrated)."""
    from havre_server.app import Settings, create_app
    from havre_server.logs import configure

    configure(os.environ.get(LOG_LEVEL_ENV, "info"))
    url = os.environ[DATABASE_ENV]
    return create_app(Settings.from_env(url), make_engine(url))


def cmd_add_agent(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    request = AgentCreate(
        login=args.login.lower(),
        password=_password(args),
        display_name=args.name,
        role=args.role,
        territory_ids=args.territory,
        work_phone=args.phone,
        register_right=args.register_right,
    )
    out = admin.create_agent(engine, None, request, load_reference(), ordering_from_env())
    _print(out.model_dump())


def cmd_disable_agent(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    agent_id = admin.find_agent_id(engine, args.login)
    out = admin.update_agent(
        engine,
        None,
        agent_id,
        AgentUpdate(disabled=True),
        load_reference(),
        ordering_from_env(),
    )
    _print(out.model_dump())


def cmd_set_agent(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    agent_id = admin.find_agent_id(engine, args.login)
    disabled: bool | None = None
    if args.enable:
        disabled = False
    if args.disable:
        disabled = True
    update = AgentUpdate(
        display_name=args.name,
        role=args.role,
        territory_ids=args.territory,
        work_phone=args.phone,
        disabled=disabled,
        register_right=args.register_right,
    )
    out = admin.update_agent(engine, None, agent_id, update, load_reference(), ordering_from_env())
    _print(out.model_dump())


def cmd_reset_password(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    agent_id = admin.find_agent_id(engine, args.login)
    chosen = _password(args) if args.password_stdin else None
    reply = admin.reset_password(engine, None, agent_id, chosen)
    if chosen is None:
        print(
            f"Nouveau mot de passe (à transmettre à l'agent, affiché une seule fois) : "
            f"{reply.password}"
        )
    else:
        print("Mot de passe changé.")
    print(
        "Les sessions ouvertes de ce compte sont fermées : ses appareils demanderont de se "
        "reconnecter."
    )


def _register_right_options(parser: argparse.ArgumentParser) -> None:
    """--registre / --sans-registre: the register right (default: the role's)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--registre",
        dest="register_right",
        action="store_const",
        const=True,
        help="donner l'accès au registre des personnes vulnérables (audité)",
    )
    group.add_argument(
        "--sans-registre",
        dest="register_right",
        action="store_const",
        const=False,
        help="retirer l'accès au registre (ses données quittent les appareils de l'agent)",
    )
    parser.set_defaults(register_right=None)


def cmd_list_devices(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    _print([d.model_dump() for d in admin.list_devices(engine, None, args.login)])


def cmd_revoke_device(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    count = admin.revoke_device(engine, None, args.device_id)
    print(f"Appareil révoqué ({count} compte(s)) : il s'effacera à sa prochaine connexion.")


def _sheet_report(report: CatalogueSheetReport) -> str:
    if report.problems:
        problems = [Problem(p.line, p.column, p.message) for p in report.problems]
        lines = len({i.line for i in report.items}) + len({p.line for p in problems})
        return sheet_report(problems, lines)
    said = "importé" if report.applied else "aperçu (rien n'est écrit ; --appliquer importe)"
    text = [
        f"Tableau {said} : {report.created} action(s) créée(s), {report.changed} modifiée(s), "
        f"{report.unchanged} inchangée(s)."
    ]
    for item in report.items:
        if item.outcome != "unchanged":
            what = "créée" if item.outcome == "created" else "modifiée : " + ", ".join(item.fields)
            text.append(f"Ligne {item.line} : {item.code} — {item.title} ({what})")
    if report.ignored_columns:
        text.append("Colonnes ignorées : " + ", ".join(report.ignored_columns))
    return "\n".join(text)


def cmd_import_catalogue(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    if args.sheet:
        path = Path(args.sheet)
        sheet = read_sheet(path.read_bytes(), path.name)
        report = catalogue_editing.import_sheet(
            engine, None, sheet, load_reference(), ordering_from_env(), apply=args.apply
        )
        print(_sheet_report(report))
        if report.problems:
            raise SystemExit(1)
        return
    catalogue: dict[str, list[dict[str, Any]]] = {"facilities": [], "actions": []}
    sample = False
    for path in args.json or []:
        data = json.loads(Path(path).read_text("utf-8"))
        sample = sample or bool(data.get("sample"))
        catalogue["facilities"] += data.get("facilities") or []
        catalogue["actions"] += data.get("actions") or []
    if args.facilities:
        catalogue["facilities"] += admin.read_catalogue_csv(Path(args.facilities))
    if args.actions:
        catalogue["actions"] += admin.read_catalogue_csv(Path(args.actions))
    if args.sample:
        sample = True
    out = admin.import_catalogue(
        engine, None, catalogue, load_reference(), ordering_from_env(), sample=sample
    )
    print(f"Catalogue importé : {out.facilities} lieux, {out.actions} actions.")


def cmd_city_details(args: argparse.Namespace) -> None:
    """``city-details list | set ROW --field value… | remove ROW | sample``."""
    engine = prepare(database_url(args))
    ref, ordering = load_reference(), ordering_from_env()
    if args.action == "list":
        _print(city.list_city_details(engine, None))
    elif args.action == "set":
        values = {
            name: getattr(args, name)
            for name in EDITABLE_FIELDS
            if getattr(args, name, None) is not None
        }
        if not values:
            raise SystemExit("Indiquez au moins un champ à changer (--standard-phone …).")
        _print(city.set_city_details(engine, None, args.row_id, values, ref, ordering))
    elif args.action == "remove":
        city.remove_city_details(engine, None, args.row_id, ordering)
        print(
            f"Accueil « {args.row_id} » supprimé : il disparaît des ordinateurs "
            "à leur synchronisation."
        )
    else:
        done = city.install_sample_city_details(engine, ref, ordering)
        print(
            "Coordonnées d'exemple chargées (numéro fictif)."
            if done
            else "La ligne « ville » existe déjà : rien n'a été changé."
        )


def cmd_campaign(args: argparse.Namespace) -> None:
    """``campaign start --territory … --agent LOGIN… | progress ID | close ID | daily ID``:
    the operator on the server (audited with no agent)."""
    engine = prepare(database_url(args))
    ordering = ordering_from_env()
    if args.action == "start":
        agent_ids = [admin.find_agent_id(engine, login) for login in args.agent]
        started = campaigns.start_campaign(
            engine,
            None,
            CampaignStart(
                kind=args.kind,
                level=args.level,
                title=args.title,
                territory_ids=args.territory,
                agent_ids=agent_ids,
                starts_on=args.starts_on,
                expected_end_on=args.expected_end_on,
                retry_delay_min=args.retry_delay,
                failed_calls_before_emergency=args.failed_calls,
            ),
            load_reference(),
            ordering,
        )
        print(
            f"Campagne {started.campaign_id} lancée : "
            f"{french_count(started.persons, '{n} personne', '{n} personnes')} à appeler, "
            f"{french_count(len(started.lists), '{n} liste', '{n} listes')}."
        )
    elif args.action == "progress":
        _print(campaigns.progress(engine, None, args.campaign_id).model_dump())
    elif args.action == "daily":
        _print(campaigns.daily(engine, None, args.campaign_id).model_dump())
    else:
        closed = campaigns.close(
            engine, None, args.campaign_id, CampaignClose(closed_on=args.closed_on), ordering
        )
        print(
            f"Campagne close le {closed.closed_on} : {closed.reached} jointes sur "
            f"{closed.persons}, {closed.escalated} signalées (procédure de la Ville)."
        )


def cmd_import_streets(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    path = Path(args.file) if args.file else SAMPLE_STREETS
    if not args.file and not args.sample:
        raise SystemExit(
            "Indiquez le fichier des rues (CSV), ou --exemple pour la liste d'exemple."
        )
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"Fichier illisible ({path}) : {type(exc).__name__}.") from None
    read = read_streets(text, load_reference())
    print(read.report(), file=sys.stderr if read.problems else sys.stdout)
    if read.problems:
        raise SystemExit(1)
    counts = city.import_streets(engine, None, read, ordering_from_env(), sample=args.sample)
    print(
        f"Rues : {counts['added']} ajoutée(s), {counts['changed']} modifiée(s), "
        f"{counts['unchanged']} inchangée(s), {counts['removed']} retirée(s)."
    )


def cmd_erase_person(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    out = admin.erase_person(engine, None, args.person_id, args.reason, ordering_from_env())
    _print(out.model_dump())


def cmd_compact_log(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    days = args.active_days if args.active_days is not None else active_days_from_env()
    done = compact(engine, days)
    active = french_count(done.active_devices, "{n} appareil actif", "{n} appareils actifs")
    superseded = french_count(done.superseded, "{n} entrée remplacée", "{n} entrées remplacées")
    below = french_count(done.below_floor, "{n} entrée antérieure", "{n} entrées antérieures")
    print(
        f"Journal compacté : plancher {done.floor} (tête {done.head}), {active} sur "
        f"{french_count(days, '{n} jour', '{n} jours')} ; supprimées : {superseded}, {below} au "
        "plancher."
    )


def cmd_unservable_rows(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    if args.clear:
        cleared = french_count(admin.clear_unservable(engine, None), "{n} ligne", "{n} lignes")
        print(f"Liste vidée ({cleared}) : les lignes encore illisibles y reviendront.")
        return
    _print(admin.list_unservable(engine, None))


def cmd_scrub_database(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    admin.scrub_database_files(engine)
    print("Fichiers de la base nettoyés.")


def cmd_backup(args: argparse.Namespace) -> None:
    from havre_server.backup import backup

    done = backup(database_url(args), Path(args.file))
    print(
        f"Sauvegarde chiffrée écrite : {args.file} (base {done.kind}, {_megabytes(done.size)}, "
        f"schéma {done.schema}, journal jusqu'à {done.head_seq})."
    )


def cmd_restore(args: argparse.Namespace) -> None:
    from havre_server.backup import restore

    done = restore(database_url(args), Path(args.file))
    print(
        f"Sauvegarde du {done.created_at} restaurée (base {done.kind}, {_megabytes(done.size)}, "
        f"schéma {done.schema}). Les appareils synchronisés après cette sauvegarde "
        "téléchargeront tout à nouveau à leur prochaine synchronisation."
    )


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} Mo".replace(".", ",")


def cmd_audit_verify(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    found = audit.verify(engine)
    if not found.intact:
        print(found.message(), file=sys.stderr)
        raise SystemExit(3)
    print(found.message())


def cmd_subject_access(args: argparse.Namespace) -> None:
    engine = prepare(database_url(args))
    written = subject_access.export(engine, None, args.person_id, Path(args.out))
    for path in written:
        print(f"Écrit : {path}")
    if len(written) == 1:
        print(
            "PDF non produit : reportlab n'est pas installé sur ce serveur "
            "(pip install 'havre-ensemble-server[pdf]')."
        )


def cmd_retention(args: argparse.Namespace) -> None:
    """``retention list``: the files due; ``retention apply``: anonymise them (all, or the
    ``--person`` ids given), each checked again as it is done."""
    from havre_server import retention

    engine = prepare(database_url(args))
    months = args.months
    listed = retention.due(engine, None, months=months)
    if args.action == "list":
        if args.json:
            _print(listed.model_dump())
            return
        due = french_count(len(listed.candidates), "{n} fiche", "{n} fiches")
        print(
            f"Conservation : {due} sans contact depuis le {listed.cutoff} ({listed.months} mois) "
            f"et sans {', ni '.join(listed.rules)}."
        )
        for c in listed.candidates:
            rows = ", ".join(f"{t} {n}" for t, n in sorted(c.rows.items()))
            print(f"{c.person_id}  {c.territory_id:<14} dernier contact {c.last_contact}  {rows}")
        return
    wanted = args.person or [c.person_id for c in listed.candidates]
    if not args.person and not args.all:
        raise SystemExit(
            "Précisez --all (toutes les fiches de la liste) ou --person ID (une ou plusieurs)."
        )
    if not wanted:
        print("Aucune fiche à anonymiser.")
        return
    done = retention.anonymise(engine, None, wanted, ordering_from_env(), months=months)
    print(
        "Anonymisées : "
        + french_count(len(done.anonymised), "{n} fiche", "{n} fiches")
        + (f" ; écartées : {len(done.skipped)}" if done.skipped else "")
        + "."
    )
    for skipped in done.skipped:
        print(f"{skipped.person_id} : {skipped.reason}")


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("nombre positif ou nul attendu")
    return value


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("nombre entier d'au moins 1 attendu")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="havre-server", description="Serveur central Havre Ensemble."
    )
    parser.add_argument("--version", action="version", version=SERVER_VERSION)
    parser.add_argument(
        "--config", help=f"fichier de configuration TOML (sinon ${config.CONFIG_ENV})"
    )
    parser.add_argument("--database", help=f"URL de la base (sinon ${DATABASE_ENV})")
    parser.add_argument("--data-dir", help="dossier de la base SQLite par défaut")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="créer ou mettre à jour la base").set_defaults(func=cmd_init)

    serve = sub.add_parser("serve", help="lancer le serveur")
    serve.add_argument("--host", help="adresse d'écoute (127.0.0.1 par défaut)")
    serve.add_argument("--port", type=int, help="port d'écoute (8765 par défaut)")
    serve.add_argument(
        "--min-client-version",
        type=client_version,
        default=None,
        help="version minimale de l'application de bureau (ex. 0.2.0)",
    )
    serve.add_argument("--log-level", help="info par défaut")
    serve.add_argument(
        "--workers",
        type=int,
        help="processus serveurs (PostgreSQL : un par cœur ; SQLite : 1 suffit)",
    )
    serve.add_argument("--proxy-headers", action="store_true", help="derrière un mandataire TLS")
    serve.add_argument("--forwarded-allow-ips", help="127.0.0.1 par défaut")
    serve.add_argument(
        "--ssl-certfile", help="certificat TLS (PEM) : le serveur répond alors en https"
    )
    serve.add_argument("--ssl-keyfile", help="clé privée du certificat TLS (PEM)")
    serve.set_defaults(func=cmd_serve)

    add = sub.add_parser("add-agent", help="créer un agent et son compte")
    add.add_argument("--login", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--territory", action="append", required=True)
    add.add_argument("--phone")
    add.add_argument("--password-stdin", action="store_true")
    _register_right_options(add)
    add.set_defaults(func=cmd_add_agent)

    disable = sub.add_parser("disable-agent", help="désactiver un compte")
    disable.add_argument("login")
    disable.set_defaults(func=cmd_disable_agent)

    setp = sub.add_parser("set-agent", help="changer le rôle, les territoires… d'un agent")
    setp.add_argument("login")
    setp.add_argument("--name")
    setp.add_argument("--role", choices=ROLES)
    setp.add_argument("--territory", action="append")
    setp.add_argument("--phone")
    group = setp.add_mutually_exclusive_group()
    group.add_argument("--enable", action="store_true")
    group.add_argument("--disable", action="store_true")
    _register_right_options(setp)
    setp.set_defaults(func=cmd_set_agent)

    reset = sub.add_parser(
        "reset-password", help="donner un nouveau mot de passe à un agent (sessions fermées)"
    )
    reset.add_argument("login")
    reset.add_argument(
        "--password-stdin", action="store_true", help="le lire sur l'entrée standard (sinon tiré)"
    )
    reset.set_defaults(func=cmd_reset_password)

    devices = sub.add_parser("list-devices", help="lister les appareils")
    devices.add_argument("--login")
    devices.set_defaults(func=cmd_list_devices)

    revoke = sub.add_parser("revoke-device", help="révoquer un appareil perdu ou volé")
    revoke.add_argument("device_id")
    revoke.set_defaults(func=cmd_revoke_device)

    catalogue = sub.add_parser("import-catalogue", help="importer lieux et actions")
    catalogue.add_argument("json", nargs="*", help="fichier(s) JSON {facilities, actions}")
    catalogue.add_argument("--facilities", help="CSV des lieux")
    catalogue.add_argument("--actions", help="CSV des actions")
    catalogue.add_argument("--sample", action="store_true", help="données d'exemple")
    catalogue.add_argument(
        "--tableur",
        dest="sheet",
        help="le tableur de la Ville (.xlsx ou .csv), une action par ligne, repérée par son code",
    )
    catalogue.add_argument(
        "--appliquer",
        dest="apply",
        action="store_true",
        help="importer le tableur (sans cette option : aperçu et rapport seulement)",
    )
    catalogue.set_defaults(func=cmd_import_catalogue)

    details = sub.add_parser(
        "city-details",
        help="coordonnées de la Ville imprimées sur chaque document (standard, accueils)",
    )
    details_sub = details.add_subparsers(dest="action", required=True)
    details_sub.add_parser("list", help="les lignes (« ville » et les accueils)")
    details_set = details_sub.add_parser(
        "set", help="créer ou changer une ligne (« ville » : standard et canicule ; un accueil)"
    )
    details_set.add_argument(
        "row_id", help="« ville », ou l'identifiant d'un accueil (nord-mairie…)"
    )
    for name in EDITABLE_FIELDS:
        details_set.add_argument(
            "--" + name.replace("_", "-"), dest=name, help=f"{city_label(name)} (vide : effacer)"
        )
    details_remove = details_sub.add_parser("remove", help="supprimer un accueil")
    details_remove.add_argument("row_id")
    details_sub.add_parser(
        "sample", help="charger les coordonnées d'exemple (serveur de démonstration)"
    )
    details.set_defaults(func=cmd_city_details)

    camp = sub.add_parser("campaign", help="campagnes d'alerte (canicule, grand froid)")
    camp_sub = camp.add_subparsers(dest="action", required=True)
    camp_start = camp_sub.add_parser("start", help="lancer une campagne : les listes d'appels")
    camp_start.add_argument("--kind", choices=("canicule", "grand-froid", "autre"), required=True)
    camp_start.add_argument("--level", choices=("jaune", "orange", "rouge"), required=True)
    camp_start.add_argument("--title", required=True)
    camp_start.add_argument("--territory", action="append", required=True)
    camp_start.add_argument(
        "--agent", action="append", required=True, help="identifiant de connexion d'un agent"
    )
    camp_start.add_argument("--starts-on", required=True, help="AAAA-MM-JJ")
    camp_start.add_argument("--expected-end-on", help="AAAA-MM-JJ")
    camp_start.add_argument("--retry-delay", type=int, default=60, help="minutes")
    camp_start.add_argument("--failed-calls", type=int, default=2)
    for name, what in (("progress", "où en est la campagne"), ("daily", "chiffres par jour")):
        camp_sub.add_parser(name, help=what).add_argument("campaign_id")
    camp_close = camp_sub.add_parser("close", help="clore la campagne")
    camp_close.add_argument("campaign_id")
    camp_close.add_argument("--closed-on", help="AAAA-MM-JJ (par défaut : aujourd'hui)")
    camp.set_defaults(func=cmd_campaign)

    streets = sub.add_parser(
        "import-streets", help="charger la liste des rues (CSV) par territoire"
    )
    streets.add_argument("file", nargs="?", help="CSV : rue;territoire;code_postal")
    streets.add_argument(
        "--exemple", dest="sample", action="store_true", help="liste d'exemple (rues fictives)"
    )
    streets.set_defaults(func=cmd_import_streets)

    erase = sub.add_parser("erase-person", help="effacer une personne (RGPD)")
    erase.add_argument("person_id")
    erase.add_argument("--reason", default="demande-personne")
    erase.set_defaults(func=cmd_erase_person)

    compact_log = sub.add_parser(
        "compact-log",
        help="compacter le journal des modifications (le serveur le fait aussi régulièrement)",
    )
    compact_log.add_argument(
        "--active-days",
        type=non_negative,
        help="un appareil vu dans ces derniers jours est actif "
        f"(sinon ${ACTIVE_DAYS_ENV}, 30 par défaut)",
    )
    compact_log.set_defaults(func=cmd_compact_log)

    unservable = sub.add_parser(
        "unservable-rows", help="lignes que la synchronisation a dû sauter (identifiants)"
    )
    unservable.add_argument("--clear", action="store_true", help="vider la liste")
    unservable.set_defaults(func=cmd_unservable_rows)

    scrub = sub.add_parser(
        "scrub-database",
        help="SQLite : réécrire les fichiers de la base sans les données supprimées",
    )
    scrub.set_defaults(func=cmd_scrub_database)

    save = sub.add_parser(
        "backup",
        help="sauvegarde chiffrée de la base, serveur en marche "
        "(phrase de passe : backup.passphrase_file)",
    )
    save.add_argument("file", help="fichier de sauvegarde à écrire")
    save.set_defaults(func=cmd_backup)

    load = sub.add_parser("restore", help="restaurer une sauvegarde dans une base neuve")
    load.add_argument("file", help="fichier de sauvegarde")
    load.set_defaults(func=cmd_restore)

    access = sub.add_parser(
        "subject-access",
        help="tout ce que le serveur détient sur une personne (RGPD art. 15) : JSON et PDF",
    )
    access.add_argument("person_id")
    access.add_argument("--out", required=True, help="dossier où écrire les fichiers")
    access.set_defaults(func=cmd_subject_access)

    keep = sub.add_parser(
        "retention",
        help="conservation : lister (list) ou anonymiser (apply) les fiches sans contact depuis "
        "la durée de conservation",
    )
    keep.add_argument("action", choices=("list", "apply"))
    keep.add_argument(
        "--months",
        type=positive,
        default=None,
        help="durée de conservation en mois (sinon [retention] months, 24 par défaut)",
    )
    keep.add_argument("--json", action="store_true", help="list : la liste en JSON")
    keep.add_argument("--all", action="store_true", help="apply : toutes les fiches listées")
    keep.add_argument(
        "--person", action="append", metavar="ID", help="apply : cette fiche (répétable)"
    )
    keep.set_defaults(func=cmd_retention)
    sub.add_parser(
        "audit-verify",
        help="vérifier la chaîne du journal d'audit (première entrée altérée ou manquante)",
    ).set_defaults(func=cmd_audit_verify)
    return parser


PRIVATE_UMASK = 0o077


def main(argv: Sequence[str] | None = None) -> int:
    # Every file the server creates (database, -wal, -shm, anything later) is its user's only.
    os.umask(PRIVATE_UMASK)
    args = build_parser().parse_args(argv)
    try:
        given = args.config or os.environ.get(config.CONFIG_ENV)
        config.load(Path(given) if given else None, os.environ)
    except config.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        args.func(args)
    except ApiError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    except ValueError as exc:  # pydantic validation of the arguments
        print(f"Paramètres invalides : {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
