"""What can go wrong during a sign-in or a sync, each with a French message for the agent.

Every error here is an *environment* problem (``HavreError``): the UI shows ``message`` as is.
None of them loses data: the outbox is kept in every case except :class:`DeviceRevokedError`,
whose ``discarded`` says how many unsent edits the wipe removed.
"""

from __future__ import annotations

from havre_common.messages import client_too_old_message, clock_skew_message
from havre_desktop.core.errors import HavreError

KEPT = "Vos modifications restent sur cet ordinateur et seront envoyées plus tard."


class SyncError(HavreError):
    """Base class; ``code`` is stable (for logs and tests), ``message`` is for the agent."""

    code = "sync"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class ServerUnreachableError(SyncError):
    code = "unreachable"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Le serveur de synchronisation est injoignable (réseau absent ou connexion "
            f"interrompue). {KEPT}"
        )


class CertificateError(ServerUnreachableError):
    code = "certificate"

    def __init__(self) -> None:
        super().__init__(
            "Le certificat du serveur n'est pas reconnu : la connexion a été refusée pour "
            "protéger vos données. Vérifiez l'adresse du serveur ou adressez-vous au service "
            f"informatique (certificat de la Ville à installer). {KEPT}"
        )


class ServerBusyError(ServerUnreachableError):
    code = "busy"

    def __init__(self) -> None:
        super().__init__(f"Le serveur est momentanément indisponible : réessayez. {KEPT}")


class ClockSkewError(SyncError):
    code = "clock_skew"

    def __init__(self, minutes: int | None = None) -> None:
        super().__init__(clock_skew_message(minutes))
        self.minutes = minutes


class ClientTooOldError(SyncError):
    code = "client_too_old"

    def __init__(self, minimum: str | None = None) -> None:
        super().__init__(client_too_old_message(minimum))
        self.minimum = minimum


class BadCredentialsError(SyncError):
    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__("Identifiant ou mot de passe incorrect.")


class TooManyAttemptsError(SyncError):
    code = "too_many_attempts"

    def __init__(self) -> None:
        super().__init__("Trop de tentatives de connexion : réessayez dans quelques minutes.")


class AccountDisabledError(SyncError):
    code = "account_disabled"

    def __init__(self) -> None:
        super().__init__(
            "Votre compte est désactivé : adressez-vous à votre coordinateur. Vos modifications "
            "restent sur cet ordinateur."
        )


class SignInRequiredError(SyncError):
    """No token, or the server no longer knows it: sign in again (nothing is wiped)."""

    code = "sign_in_required"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "Connexion au serveur nécessaire : identifiez-vous. Vos modifications sont "
            "conservées."
        )


class TokenExpiredError(SignInRequiredError):
    code = "token_expired"

    def __init__(self) -> None:
        super().__init__(
            "Votre session a expiré : reconnectez-vous. Vos modifications sont conservées."
        )


class DeviceRevokedError(SyncError):
    """The server revoked this device: its local data has been wiped."""

    code = "device_revoked"

    def __init__(self, discarded: int) -> None:
        lost = (
            "aucune modification non envoyée n'a été perdue"
            if discarded == 0
            else f"{discarded} modification{'s' if discarded > 1 else ''} non envoyée"
            f"{'s' if discarded > 1 else ''} {'ont' if discarded > 1 else 'a'} été perdue"
            f"{'s' if discarded > 1 else ''}"
        )
        super().__init__(
            "Cet appareil a été révoqué par votre coordinateur (ordinateur perdu ou volé) : ses "
            f"données locales ont été effacées ({lost}). Pour travailler à nouveau sur cet "
            "ordinateur, reconnectez-vous : vos données vous seront renvoyées par le serveur."
        )
        self.discarded = discarded


class ProfileBoundError(SyncError):
    code = "profile_bound"

    def __init__(self, login: str | None) -> None:
        owner = f"au compte « {login} »" if login else "à un autre compte"
        super().__init__(
            f"Ce profil appartient {owner} et contient des données : il ne peut pas être "
            "utilisé avec un autre compte. Connectez-vous avec le compte du profil, ou utilisez "
            "un autre profil."
        )


class ProtocolError(SyncError):
    """The server's reply is not what the protocol allows: refused as a whole."""

    code = "protocol"

    def __init__(self, detail: str) -> None:
        super().__init__(
            "Le serveur a envoyé une réponse invalide ou incohérente : elle a été refusée et "
            f"aucune donnée de cet ordinateur n'a été modifiée ({detail}). {KEPT} Si le "
            "problème persiste, prévenez le service informatique."
        )
        self.detail = detail


class RequestRefusedError(SyncError):
    """The server refused a request with an error this client does not handle specially."""

    code = "refused"

    def __init__(
        self, message: str, status: int = 0, server_code: str = "", details: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.server_code = server_code
        self.details = list(details or [])


class SyncCancelledError(SyncError):
    code = "cancelled"

    def __init__(self) -> None:
        super().__init__(
            "Synchronisation interrompue : ce qui a été reçu est conservé et elle reprendra où "
            "elle s'est arrêtée."
        )


class NotSignedInError(SignInRequiredError):
    code = "not_signed_in"

    def __init__(self) -> None:
        super().__init__(
            "Ce profil n'est pas encore relié au serveur : connectez-vous pour synchroniser."
        )
