"""French messages that the server sends and the desktop shows for the same situation."""

from __future__ import annotations


def duration_fr(minutes: int) -> str:
    """'12 minutes', '3 heures', '2 jours' (a wrong date is often off by days or years)."""
    if minutes < 120:
        return f"{minutes} minutes"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} heures"
    days = round(hours / 24)
    if days < 730:
        return f"{days} jours"
    return f"{round(days / 365)} ans"


def clock_skew_message(minutes: int | None = None) -> str:
    gap = f"a environ {duration_fr(minutes)} d'écart" if minutes else "est décalée"
    return (
        f"L'horloge de cet ordinateur {gap} avec celle du serveur (5 minutes au plus "
        "sont admises). Corrigez la date et l'heure de l'ordinateur, puis relancez la "
        "synchronisation : vos modifications sont conservées et n'ont pas été envoyées."
    )


ANONYMISED_FILE = (
    "Cette fiche a été anonymisée (fin de la durée de conservation) : identité, coordonnées "
    "et notes ne s'y saisissent plus. Modification refusée."
)
"""A file anonymised at the end of its retention period takes no identity, contact details
or free text again (refused by the server, and by the desktop before saving)."""


def client_too_old_message(minimum: str | None = None) -> str:
    needed = f" (version minimale : {minimum})" if minimum else ""
    return (
        f"Cette version de Havre Ensemble est trop ancienne pour le serveur{needed}. "
        "Faites mettre à jour l'application (service informatique) : vos modifications sont "
        "conservées et seront envoyées après la mise à jour."
    )
