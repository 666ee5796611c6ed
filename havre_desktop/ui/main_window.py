"""The main window: side navigation, the pages, a status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.french import count as plural
from havre_desktop import APP_NAME
from havre_desktop.core import agents, catalogue
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import pending_text, tr, unsent_warning_text
from havre_desktop.ui.lock import AppLock
from havre_desktop.ui.operations import Changes, DayWatch, Operation
from havre_desktop.ui.pages.today import TodayPage
from havre_desktop.ui.roles import MANAGER_ROLES
from havre_desktop.ui.theme import Theme

if TYPE_CHECKING:  # pages other than Ma journée, and sync, load after the first screen
    from havre_desktop.core.profile import ProfileManager
    from havre_desktop.core.workspace import PendingChanges
    from havre_desktop.sync.engine import SyncReport
    from havre_desktop.ui.pages.actions_page import ActionsPage
    from havre_desktop.ui.pages.alert_page import AlertPage
    from havre_desktop.ui.pages.dashboard_page import DashboardPage
    from havre_desktop.ui.pages.persons import PersonsPage
    from havre_desktop.ui.pages.prints_page import PrintsPage
    from havre_desktop.ui.pages.reception import ReceptionPage
    from havre_desktop.ui.pages.settings_page import SettingsPage
    from havre_desktop.ui.pages.visits_page import VisitsPage
    from havre_desktop.ui.sync_controller import SyncController
    from havre_desktop.ui.sync_widgets import SyncPage, SyncStatusArea

log = logging.getLogger("havre.ui")

ROLES_FOR_DASHBOARD = frozenset({contract.COORDINATOR, contract.ADMINISTRATOR})


# Pages left to their first opening: Impressions loads the PDF engine (reportlab and its
# fonts, about 20 MB) that the other pages only load when a document is built.
BUILT_WHEN_OPENED = frozenset({"prints"})
LOCK_LISTENS_AFTER_MS = 1000


class FirstScreen(QObject):
    """Says (`painted`) once Ma journée's lists have been painted with their rows.

    What waits for the first screen (the other pages, sync, the session-lock listeners)
    waits for this rather than for the rows to be loaded: the rows usually arrive before
    the platform has exposed the window, and work started then would delay the first paint
    itself. A Ma journée that cannot be seen (a locked or unshown window) has nothing to
    paint: the signal follows the rows at once.
    """

    painted = Signal()

    def __init__(self, window: QWidget, lists: QWidget) -> None:
        super().__init__(window)
        self._window, self._lists = window, lists
        self._loaded = self._fired = False
        window.installEventFilter(self)
        lists.installEventFilter(self)

    def rows_loaded(self) -> None:
        self._loaded = True
        if self._lists.isVisible():
            self._lists.update()  # painted with the rows, now or at the window's first paint
        else:
            self._fire()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._loaded and not self._fired and event.type() == QEvent.Type.Paint:
            self._fire()
        return False

    def _fire(self) -> None:
        self._fired = True
        self._window.removeEventFilter(self)
        self._lists.removeEventFilter(self)
        QTimer.singleShot(0, self, self.painted.emit)  # once this paint of the window is done


class MainWindow(QMainWindow):
    """Alt+1…9 (Alt+0 the tenth) or Ctrl+PgUp/PgDown move between pages; Ctrl+F searches a
    person."""

    def __init__(
        self,
        context: UiContext,
        profile_folder: str = "",
        profile: ProfileManager | None = None,
    ) -> None:
        """`profile` unlocks the lock after five wrong codes and makes backups (None: a demo)."""
        super().__init__()
        self.profile = profile
        self.ctx = context
        self.sync: SyncController | None = None
        self._journal_loaded = False
        self.setWindowTitle(
            APP_NAME + (tr(" — démonstration (données fictives)") if context.demo else "")
        )
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName(tr("Navigation"))
        self.pages = QStackedWidget()
        self.profile_folder = profile_folder
        self.today_page = TodayPage(context)
        # Ma journée's lists are read on the database thread while the rest of the window is
        # built: they are usually there before its first paint, which then shows the rows
        # (rather than painting empty lists, then laying out and painting everything again).
        self.today_page.refresh()
        self.page_names: list[str] = []
        # Only Ma journée is built before the first screen; every other page is built (and
        # its modules imported: printing, reportlab, QtPdf…) when first needed, or one per
        # turn of the event loop once Ma journée is on screen (build_remaining_pages).
        self._built: dict[str, QWidget] = {}
        self._builders: dict[str, Callable[[], QWidget]] = {}
        self._add_page("today", tr("Ma journée"), lambda: self.today_page)
        self._add_page("persons", tr("Personnes"), self._build_persons)
        if context.may_see_visits:
            self._add_page("visits", tr("Visites"), self._build_visits)
        self._add_page("actions", tr("Actions"), self._build_actions)
        self._add_page("reception", tr("Accueil"), self._build_reception)
        self._add_page("prints", tr("Impressions"), self._build_prints)
        if context.register_right:  # alert campaigns: not shown at all without the right
            self._add_page("alert", tr("Alerte"), self._build_alert)
        if context.role in ROLES_FOR_DASHBOARD:
            self._add_page("dashboard", tr("Tableau de bord"), self._build_dashboard)
        if context.role in MANAGER_ROLES:  # not shown at all to other roles
            self._add_page("team", tr("Équipe"), self._build_team)
            self._add_page("devices", tr("Appareils"), self._build_devices)
        self.sync_page: SyncPage | None = None
        self._add_page("settings", tr("Paramètres"), self._build_settings)
        self.navigation.currentRowChanged.connect(self._page_changed)

        central = QWidget()
        outer = QVBoxLayout(central)
        if context.demo:
            banner = QLabel(tr("Profil de démonstration : toutes les données sont fictives."))
            banner.setProperty("role", "banner")
            banner.setWordWrap(True)
            banner.setAccessibleName(tr("Avertissement démonstration"))
            outer.addWidget(banner)
        layout = QHBoxLayout()
        layout.addWidget(self.navigation)
        layout.addWidget(self.pages, 1)
        outer.addLayout(layout, 1)
        self.setCentralWidget(central)

        # Edits waiting unsent for longer than the delay of Paramètres (CommCare's "unsent
        # forms" warning): a sign and words, on the banner's colours.
        self.unsent_warning = QLabel()
        self.unsent_warning.setProperty("role", "banner")
        self.unsent_warning.setWordWrap(True)
        self.unsent_warning.setAccessibleName(tr("Avertissement : modifications non envoyées"))
        self.unsent_warning.setToolTip(
            tr(
                "Ces modifications sont gardées sur cet ordinateur. Connectez-vous au réseau "
                "et synchronisez pour les envoyer au serveur."
            )
        )
        self.unsent_warning.setVisible(False)
        self.statusBar().addPermanentWidget(self.unsent_warning, 1)
        self.agent_label = QLabel(str(context.agent.get("display_name") or ""))
        self.agent_label.setAccessibleName(tr("Agent connecté"))
        self.statusBar().addPermanentWidget(self.agent_label)
        self.pending_label = QLabel()
        self.pending_label.setAccessibleName(tr("Modifications en attente"))
        self.sync_area: SyncStatusArea | None = None
        self.statusBar().addPermanentWidget(self.pending_label)

        self.today_page.open_person.connect(self.show_person)
        self.today_page.open_stale_actions.connect(self.show_stale_actions)
        context.database.failed.connect(self._unexpected_error)
        context.database.changes.changed.connect(self._changes_announced)
        self.day_watch = DayWatch(
            context.database.changes, context.local_now, context.today, self._new_day, parent=self
        )

        QShortcut(QKeySequence("Ctrl+F"), self).activated.connect(self.focus_search)
        for number in range(1, min(len(self.page_names), 10) + 1):
            QShortcut(QKeySequence(f"Alt+{number % 10}"), self).activated.connect(
                lambda n=number: self.navigation.setCurrentRow(n - 1)
            )
        QShortcut(QKeySequence("Ctrl+PgDown"), self).activated.connect(lambda: self._step(1))
        QShortcut(QKeySequence("Ctrl+PgUp"), self).activated.connect(lambda: self._step(-1))
        self.navigation.setCurrentRow(0)
        self.theme: Theme | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.theme = Theme(app)
            self.theme.apply(
                int(context.settings.get("text_scale", "100")),
                context.settings.get("high_contrast") == "1",
            )
        self.adapt_to_font()
        self.resize(1200, 760)
        # The app lock (Ctrl+L, idle delay, session lock): see ui/lock.py.
        self.lock = AppLock(
            self,
            context.database,
            context.now,
            int(context.settings.get("idle_lock_minutes", "10")),
            profile.verify_secret if profile is not None else None,
            demo=context.demo,
        )
        if context.settings.get("lock_engaged") == "1":
            self.lock.lock_on_start()
        # Ma journée first: it is the first screen. The other pages follow once it is
        # painted; the visit journal waits until its page is opened.
        self.first_screen = FirstScreen(self, self.today_page.tables["due"].viewport())
        self.today_page.loaded.connect(
            self.first_screen.rows_loaded, Qt.ConnectionType.SingleShotConnection
        )
        self.first_screen.painted.connect(self._first_screen_shown)
        # The lock hears the keyboard and the mouse even if Ma journée cannot be read (its
        # first screen is then never painted): at the latest a second after the window.
        QTimer.singleShot(LOCK_LISTENS_AFTER_MS, self.lock, self.lock.listen_to_input)
        self._refresh_pending()
        if context.role == contract.RECEPTION:
            # A reception desk's day is walk-ins, not rounds: its session opens on Accueil.
            self.show_page("reception")

    # -- pages, built when first needed ----------------------------------------------------

    def _add_page(self, key: str, title: str, build: Callable[[], QWidget]) -> None:
        self.navigation.addItem(title)
        self.page_names.append(title)
        self._builders[key] = build
        if key == "today":
            self._built[key] = self.today_page
            self.pages.addWidget(self.today_page)
        else:  # an empty stand-in keeps the page's place in the stack until it is built
            self.pages.addWidget(QWidget())

    def _insert_page(self, key: str, title: str, build: Callable[[], QWidget], after: str) -> None:
        """A page that appears while the window is open (the register right granted by the
        server, pulled with the agent's row): its stand-in goes right after `after`."""
        keys = list(self._builders)
        position = keys.index(after) + 1
        self.navigation.insertItem(position, title)
        self.page_names.insert(position, title)
        builders = list(self._builders.items())
        builders.insert(position, (key, build))
        self._builders = dict(builders)
        current = self.pages.currentIndex()
        self.pages.insertWidget(position, QWidget())
        if current >= position:
            self.pages.setCurrentIndex(current + 1)

    def _alert_page_follows_the_right(self) -> None:
        """Alerte exists only with the register right: shown when granted, hidden if removed."""
        if self.ctx.register_right and "alert" not in self._builders:
            self._insert_page("alert", tr("Alerte"), self._build_alert, after="prints")
        elif "alert" in self._builders:
            row = list(self._builders).index("alert")
            item = self.navigation.item(row)
            if item is not None:
                item.setHidden(not self.ctx.register_right)
            if not self.ctx.register_right and self.navigation.currentRow() == row:
                self.show_page("today")

    def _page(self, key: str) -> Any:
        """The page `key`, built now if it was not yet (None if this role has no such page)."""
        if key in self._built:
            return self._built[key]
        build = self._builders.get(key)
        if build is None:
            return None
        position = list(self._builders).index(key)
        if self.sync_page is not None and position >= self.pages.indexOf(self.sync_page):
            position += 1  # the Synchronisation page was inserted before Paramètres
        page = build()
        self._built[key] = page
        stand_in = self.pages.widget(position)
        assert stand_in is not None  # every page not yet built has its stand-in
        current = self.pages.currentIndex()
        self.pages.insertWidget(position, page)
        self.pages.removeWidget(stand_in)
        stand_in.deleteLater()
        self.pages.setCurrentIndex(current)
        self._adapt_widgets(page)
        return page

    @property
    def pages_built(self) -> list[str]:
        """Keys of the pages built so far ("today", "persons", "visits"…), in page order."""
        return [key for key in self._builders if key in self._built]

    def _first_screen_shown(self) -> None:
        self.lock.listen_to_input()
        self.today_page.first_screen_shown()
        QTimer.singleShot(0, self, self.build_remaining_pages)  # not after a close

    def build_remaining_pages(self, one_at_a_time: bool = True) -> None:
        """Build the pages not built yet: one per turn of the event loop, so that the
        window answers in between, except those BUILT_WHEN_OPENED (or all at once, for tests
        and screenshots)."""
        waiting = [
            key
            for key in self._builders
            if key not in self._built and not (one_at_a_time and key in BUILT_WHEN_OPENED)
        ]
        for key in waiting[:1] if one_at_a_time else waiting:
            self._page(key)
        if one_at_a_time and len(waiting) > 1:
            QTimer.singleShot(0, self, self.build_remaining_pages)

    def _build_persons(self) -> QWidget:
        from havre_desktop.ui.pages.persons import PersonsPage

        page = PersonsPage(self.ctx)
        page.audit_requested.connect(self.open_audit)
        page.model.set_search_text("")
        return page

    def open_audit(self, entity_id: str = "") -> None:
        """The server's audit journal (coordinators, online), filtered on a fiche."""
        if self.sync_page is None:
            self.statusBar().showMessage(tr("Journal indisponible : synchronisation non prête."))
            return
        self.sync_page.open_audit(entity_id)

    def _build_visits(self) -> QWidget:
        from havre_desktop.ui.pages.visits_page import VisitsPage

        page = VisitsPage(self.ctx)
        page.open_person.connect(self.show_person)
        return page

    def _build_actions(self) -> QWidget:
        from havre_desktop.ui.pages.actions_page import ActionsPage

        page = ActionsPage(self.ctx, lambda: self.sync)
        page.refresh()
        return page

    def _build_reception(self) -> QWidget:
        from havre_desktop.ui.pages.reception import ReceptionPage

        page = ReceptionPage(self.ctx)
        page.refresh()
        return page

    def _build_prints(self) -> QWidget:
        from havre_desktop.ui.pages.prints_page import PrintsPage

        return PrintsPage(self.ctx)

    def _build_alert(self) -> QWidget:
        from havre_desktop.ui.pages.alert_page import AlertPage
        from havre_desktop.ui.pages.campaign_coordination import CoordinationTab

        page = AlertPage(self.ctx, lambda alert: CoordinationTab(alert, lambda: self.sync))
        page.refresh()
        return page

    def _build_dashboard(self) -> QWidget:
        from havre_desktop.ui.pages.dashboard_page import DashboardPage

        page = DashboardPage(self.ctx)
        page.refresh()
        return page

    def _build_team(self) -> QWidget:
        from havre_desktop.ui.pages.admin_pages import TeamPage

        return TeamPage(self.ctx, lambda: self.sync)

    def _build_devices(self) -> QWidget:
        from havre_desktop.ui.pages.admin_pages import DevicesPage

        return DevicesPage(self.ctx, lambda: self.sync)

    def _build_settings(self) -> QWidget:
        from havre_desktop.ui.pages.settings_page import SettingsPage

        page = SettingsPage(self.ctx, self.profile_folder, self.profile)
        page.changed.connect(self._setting_changed)
        page.lock_now.connect(lambda: self.lock.lock("raccourci"))
        page.pin_changed.connect(self.lock.refresh_pin_state)
        if self.sync is not None:
            page.attach_sync(self.sync)
        return page

    @property
    def persons_page(self) -> PersonsPage:
        page: PersonsPage = self._page("persons")
        return page

    @property
    def visits_page(self) -> VisitsPage | None:
        page: VisitsPage | None = self._page("visits")
        return page

    @property
    def actions_page(self) -> ActionsPage:
        page: ActionsPage = self._page("actions")
        return page

    @property
    def reception_page(self) -> ReceptionPage:
        page: ReceptionPage = self._page("reception")
        return page

    @property
    def prints_page(self) -> PrintsPage:
        page: PrintsPage = self._page("prints")
        return page

    @property
    def alert_page(self) -> AlertPage | None:
        page: AlertPage | None = self._page("alert")
        return page

    @property
    def dashboard_page(self) -> DashboardPage | None:
        page: DashboardPage | None = self._page("dashboard")
        return page

    @property
    def settings_page(self) -> SettingsPage:
        page: SettingsPage = self._page("settings")
        return page

    def adapt_to_font(self) -> None:
        """After a text size change: the navigation keeps every page name visible."""
        self._adapt_widgets(self)
        metrics = self.navigation.fontMetrics()
        widest = max(metrics.horizontalAdvance(name) for name in self.page_names)
        self.navigation.setFixedWidth(widest + 2 * metrics.averageCharWidth() + 24)

    @staticmethod
    def _adapt_widgets(root: QWidget) -> None:
        for combo in root.findChildren(QComboBox):
            # Long choices (priority names…) must not widen the window: the list that
            # opens shows them in full.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(10)
        for table in root.findChildren(QTableView):
            if (
                table.model() is not None
                and table.model().rowCount() < 5000
                and table.horizontalHeader().sectionResizeMode(0)
                == QHeaderView.ResizeMode.Interactive  # not the lists that size themselves
            ):
                table.resizeColumnsToContents()

    def _page_changed(self, row: int) -> None:
        keys = list(self._builders)
        if self.sync_page is not None:
            keys.insert(self.pages.indexOf(self.sync_page), "sync")
        if 0 <= row < len(keys) and keys[row] != "sync":
            self._page(keys[row])
        self.pages.setCurrentIndex(row)
        if keys[row] == "visits" and not self._journal_loaded:
            self._journal_loaded = True
            visits_page = self.visits_page
            assert visits_page is not None  # built just above by self._page("visits")
            visits_page.apply_filters()

    def _step(self, delta: int) -> None:
        count = self.navigation.count()
        self.navigation.setCurrentRow((self.navigation.currentRow() + delta) % count)

    def go_to(self, page: QWidget) -> None:
        self.navigation.setCurrentRow(self.pages.indexOf(page))

    @property
    def page_keys(self) -> list[str]:
        """Keys of the pages this role has ("today", "persons"…), in navigation order."""
        return list(self._builders)

    def show_page(self, key: str) -> QWidget:
        """Show the page `key` (built now if needed), addressed by name, not by position."""
        page: QWidget | None = self._page(key)
        if page is None:
            raise KeyError(key)
        self.go_to(page)
        return page

    def focus_search(self) -> None:
        self.go_to(self.persons_page)
        self.persons_page.focus_search()

    def show_person(self, person_id: str) -> None:
        self.go_to(self.persons_page)
        self.persons_page.open_person(person_id)

    def show_stale_actions(self) -> None:
        """Actions, filtered on those waiting for their coordinator's 6-month check."""
        self.show_page("actions")
        page = self._page("actions")
        if page is not None:
            page.stale_only.setChecked(True)

    def attach_sync(self, sync: SyncController) -> None:
        """Sync arrives after the first screen (its network libraries are not needed before):
        the Synchronisation page goes before Paramètres, the sync area into the status bar."""
        from havre_desktop.ui.sync_widgets import SyncPage, SyncStatusArea

        self.sync = sync
        if "settings" in self._built:
            self.settings_page.attach_sync(sync)
        self.sync_page = SyncPage(sync, self.ctx.now, self.ctx.role)
        position = list(self._builders).index("settings")  # before Paramètres
        self.pages.insertWidget(position, self.sync_page)
        self.navigation.insertItem(position, tr("Synchronisation"))
        self.page_names.insert(position, tr("Synchronisation"))
        if len(self.page_names) <= 10:  # Alt+1…9, then Alt+0 for the tenth
            QShortcut(QKeySequence(f"Alt+{len(self.page_names) % 10}"), self).activated.connect(
                lambda: self.navigation.setCurrentRow(len(self.page_names) - 1)
            )
        self.statusBar().removeWidget(self.pending_label)
        self.sync_area = SyncStatusArea(sync, self.ctx.now)
        self.pending_label = self.sync_area.pending
        self.statusBar().addPermanentWidget(self.sync_area)
        sync.finished.connect(self._synced)
        sync.worker.failed.connect(self._unexpected_error)  # a sync job without its own handler
        sync.revoked.connect(self._device_revoked)
        self.adapt_to_font()
        sync.refresh_status()

    def _synced(self, report: SyncReport) -> None:
        """What the pull brought is announced like a local edit; a push's conflicts too."""
        tables = set(report.tables)
        if report.conflicts:
            tables.add("conflicts")
        if tables:
            self.ctx.database.changes.announce(tables)
        else:
            self._refresh_pending()

    def _device_revoked(self, message: str) -> None:
        """The local data are gone: say why, then close (the next start signs in afresh)."""
        QMessageBox.critical(self, tr("Appareil révoqué"), message)
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Warn before quitting with changes not yet sent (they are kept anyway)."""
        pending = self.sync_area.pending_count if self.sync_area is not None else 0
        if self.sync is not None and pending:
            answer = QMessageBox.question(
                self,
                tr("Modifications non envoyées"),
                plural(
                    pending,
                    tr(
                        "{n} modification en attente : elle est gardée sur cet ordinateur et "
                        "partira à la prochaine synchronisation. Quitter maintenant ?"
                    ),
                    tr(
                        "{n} modifications en attente : elles sont gardées sur cet ordinateur "
                        "et partiront à la prochaine synchronisation. Quitter maintenant ?"
                    ),
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        event.accept()

    def _unexpected_error(self, error: Exception) -> None:
        """A bug, not the user's doing: full report in the log, a short French word on screen."""
        log.error("unexpected error in a database task", exc_info=error)
        self.statusBar().showMessage(
            tr(
                "Une erreur inattendue s'est produite ; elle est consignée dans le journal. "
                "Ce que vous avez enregistré est conservé."
            ),
            15000,
        )

    def data_changed(self) -> None:
        """Something was saved here: the count of changes waiting to be sent."""
        self._refresh_pending()

    def _new_day(self, day: date) -> None:
        self.ctx.today = day  # every page reads the day from the context

    def _changes_announced(self, changes: Changes) -> None:
        """Shared state first (catalogue, colleagues, the agent), then the counters; each
        page refreshes itself from the same announcement."""
        if changes.touches("actions", "facilities", "ref_priorities", "ref_territories"):
            Operation(
                self.ctx.database,
                lambda ws: catalogue.list_actions(
                    ws, statuses=["en-cours", "en-test"], limit=10_000
                ),
            ).success(self._catalogue_reloaded).run()
        if changes.touches("agents"):
            Operation(
                self.ctx.database, lambda ws: (agents.current(ws), agents.colleagues(ws))
            ).success(self._agents_reloaded).run()
        self._refresh_pending()

    def _catalogue_reloaded(self, actions: list[dict[str, Any]]) -> None:
        self.ctx.current_actions = actions

    def _agents_reloaded(self, found: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        self.ctx.agent, self.ctx.colleagues = found
        self.agent_label.setText(str(self.ctx.agent.get("display_name") or ""))
        self._alert_page_follows_the_right()

    def _refresh_pending(self) -> None:
        """The count of changes waiting to be sent, and the warning when some have waited
        longer than the delay of Paramètres (by the application's clock)."""
        days = int(self.ctx.settings.get("unsent_warning_days", "3"))
        self.ctx.database.submit(
            lambda ws: ws.pending_status(days), lambda status: self._show_pending(status, days)
        )

    def _show_pending(self, status: PendingChanges, days: int) -> None:
        if self.sync is not None:
            self.sync.refresh_status()
        self.pending_label.setText(pending_text(status.waiting))
        warning = unsent_warning_text(status.overdue, days)
        self.unsent_warning.setText(warning)
        self.unsent_warning.setVisible(bool(warning))

    def _setting_changed(self, key: str, value: str) -> None:
        if self.theme is not None and key in ("text_scale", "high_contrast"):
            self.theme.apply(
                int(self.ctx.settings.get("text_scale", "100")),
                self.ctx.settings.get("high_contrast") == "1",
            )
        self.adapt_to_font()
        if key == "idle_lock_minutes":
            self.lock.idle.set_minutes(int(value))
        if key == "not_seen_days":
            self.today_page.refresh()
        if key == "unsent_warning_days":
            self._refresh_pending()


def build_context(database: Any, data: dict[str, Any]) -> UiContext:
    return UiContext(
        database=database,
        references=data["references"],
        agent=data["agent"],
        demo=data["demo"],
        today=data["today"],
        settings=data["settings"],
        current_actions=data["current_actions"],
        now=data["now"],
        colleagues=data["colleagues"],
    )
