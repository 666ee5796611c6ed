"""Errors answered to clients: a stable code, an HTTP status, a French message."""

from __future__ import annotations

from havre_common.protocol import ERROR_STATUS, ErrorBody


class ApiError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        wipe: bool = False,
        retry_after_s: int | None = None,
        details: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = ERROR_STATUS[code]
        self.message = message
        self.wipe = wipe
        self.retry_after_s = retry_after_s
        self.details = details or []

    def body(self) -> ErrorBody:
        return ErrorBody(
            code=self.code,
            message=self.message,
            wipe=self.wipe,
            retry_after_s=self.retry_after_s,
            details=self.details,
        )


def forbidden(message: str = "Votre rôle ne permet pas cette opération.") -> ApiError:
    return ApiError("forbidden", message)


def not_found(message: str = "Élément introuvable ou hors de votre périmètre.") -> ApiError:
    return ApiError("not_found", message)
