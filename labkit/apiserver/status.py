"""Kubernetes ``Status`` errors: one exception type, rendered once at the HTTP boundary.

kubectl prints these in a fixed way (``Error from server (<reason>): <message>``, and for 422 the
``details.causes`` field paths), so every handler raises ``ApiError`` and never builds a response
itself. Messages come from the EN/FR catalog in ``messages.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import i18n


@dataclass(frozen=True)
class Cause:
    """One invalid field: ``field`` is the path kubectl prints (``spec.containers[0].image``)."""

    field: str
    key: str
    params: dict

    def message(self, lang: str | None = None) -> str:
        params = {k: v.render(lang) if hasattr(v, "render") else v for k, v in self.params.items()}
        return i18n.t(self.key, lang, **params)


def cause(field: str, key: str, **params: object) -> Cause:
    return Cause(field, key, dict(params))


class ApiError(Exception):
    """An API failure with its HTTP code and Status reason."""

    def __init__(self, code: int, reason: str, key: str, details: dict | None = None,
                 causes: list[Cause] | None = None, **params: object) -> None:
        self.code, self.reason, self.key = code, reason, key
        self.details = details or {}
        self.causes = causes or []
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str | None = None) -> str:
        params = dict(self.params)
        if self.causes:
            params["summary"] = ", ".join(f"{c.field}: {c.message(lang)}" for c in self.causes)
        return i18n.t(self.key, lang, **params)

    def status(self, lang: str | None = None) -> dict:
        details = dict(self.details)
        if self.causes:
            details["causes"] = [{"reason": "FieldValueInvalid", "message": c.message(lang),
                                  "field": c.field} for c in self.causes]
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message(lang), "reason": self.reason, "code": self.code}
        if details:
            body["details"] = details
        return body


def resource_label(plural: str, group: str) -> str:
    """``pods`` for the core group, ``deployments.apps`` otherwise, as real messages name them."""
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str | None) -> ApiError:
    label = resource_label(plural, group)
    return ApiError(404, "NotFound", "api.not_found", {"name": name, "group": group, "kind": plural},
                    resource=label, name=name)


def already_exists(plural: str, group: str, name: str) -> ApiError:
    label = resource_label(plural, group)
    return ApiError(409, "AlreadyExists", "api.already_exists",
                    {"name": name, "group": group, "kind": plural}, resource=label, name=name)


def conflict(plural: str, group: str, name: str) -> ApiError:
    label = resource_label(plural, group)
    return ApiError(409, "Conflict", "api.conflict", {"name": name, "group": group, "kind": plural},
                    resource=label, name=name)


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    return ApiError(422, "Invalid", "api.invalid", {"name": name, "group": group, "kind": kind},
                    causes=causes, kind=kind, name=name)


def bad_request(key: str, **params: object) -> ApiError:
    return ApiError(400, "BadRequest", key, None, None, **params)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "api.unauthorized")


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "api.method_not_allowed")


def no_resource() -> ApiError:
    return ApiError(404, "NotFound", "api.no_resource")


def forbidden(key: str, **params: object) -> ApiError:
    return ApiError(403, "Forbidden", key, None, None, **params)


def expired(asked: int, oldest: int) -> ApiError:
    return ApiError(410, "Expired", "api.expired", asked=asked, oldest=oldest)
