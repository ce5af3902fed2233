"""Fastify-style request validation: the first problem, in AJV's words.

See docs/instantly-api.md §2.2 and §9.3.

Instantly runs on Fastify, whose default AJV setup coerces types (``coerceTypes: "array"``: a
query string ``"5"`` is the integer 5, a lone string where an array is expected becomes a
one-item array) and stops at the first error. Messages read ``querystring/limit must be <= 100``
and ``body/emails must NOT have more than 100 items``; the envelope carries
``"code": "FST_ERR_VALIDATION"``. The body messages are a (guessed) in AJV's own phrasing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..models import AccountFilter
from .responses import Response, validation_error

__all__ = [
    "ACCOUNT_FILTERS",
    "Invalid",
    "Param",
    "parse_json_body",
    "validate_analytics_body",
    "validate_query",
    "validate_warmup_body",
]

ACCOUNT_FILTERS = tuple(f.value for f in AccountFilter)
MAX_EMAILS = 100
BODY_LIMIT = 1024 * 1024  # Fastify's default bodyLimit


class Invalid(Exception):
    """A request that fails validation; ``response`` is the answer to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body.decode())
        self.response = response


def _fail(message: str) -> Invalid:
    return Invalid(validation_error(message))


@dataclass(frozen=True)
class Param:
    """One query parameter: its JSON type and constraints, in the spec's parameter order."""

    name: str
    type: str  # "integer" | "number" | "boolean" | "string"
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[Any, ...] | None = None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")) or not text.strip():
        return None
    return value


def validate_query(params: Sequence[Param], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """Coerce and check the known parameters; unknown ones are ignored as Fastify does."""
    values: dict[str, Any] = {}
    for param in params:
        raw = query.get(param.name)
        if raw is None:
            continue
        where = f"querystring/{param.name}"
        if len(raw) != 1 and param.type != "string":
            raise _fail(f"{where} must be {param.type}")
        text = raw[-1]
        value: Any
        if param.type == "string":
            value = ",".join(raw)
        elif param.type == "boolean":
            if text not in ("true", "false"):
                raise _fail(f"{where} must be boolean")
            value = text == "true"
        else:
            number = _number(text)
            if number is None or (param.type == "integer" and not number.is_integer()):
                raise _fail(f"{where} must be {param.type}")
            value = int(number) if number.is_integer() else number
        if param.enum is not None and value not in param.enum:
            raise _fail(f"{where} must be equal to one of the allowed values")
        if param.minimum is not None and value < param.minimum:
            raise _fail(f"{where} must be >= {param.minimum}")
        if param.maximum is not None and value > param.maximum:
            raise _fail(f"{where} must be <= {param.maximum}")
        values[param.name] = value
    return values


def parse_json_body(content_type: str | None, body: bytes) -> Any:
    """The body as Fastify's default JSON parser sees it; None when there is none."""
    media = (content_type or "").split(";")[0].strip().lower()
    if len(body) > BODY_LIMIT:
        raise Invalid(
            validation_error(
                "Request body is too large", code="FST_ERR_CTP_BODY_TOO_LARGE", status=413
            )
        )
    if not body.strip():
        if media == "application/json":
            raise Invalid(
                validation_error(
                    "Body cannot be empty when content-type is set to 'application/json'",
                    code="FST_ERR_CTP_EMPTY_JSON_BODY",
                )
            )
        return None
    if media != "application/json" and not media.endswith("+json"):
        shown = media or "undefined"
        raise Invalid(
            validation_error(
                f"Unsupported Media Type: {shown}",
                code="FST_ERR_CTP_INVALID_MEDIA_TYPE",
                status=415,
            )
        )
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Invalid(
            validation_error(
                "Body is not valid JSON but content-type is set to 'application/json'",
                code="FST_ERR_CTP_INVALID_JSON_BODY",
            )
        ) from None


def _string(value: Any, where: str) -> str:
    # AJV coercion to string: numbers and booleans are written out, null becomes "".
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if value is None:
        return ""
    raise _fail(f"{where} must be string")


def _email_list(body: Mapping[str, Any], key: str, minimum: int = 0) -> list[str] | None:
    if key not in body:
        return None
    where = f"body/{key}"
    value = body[key]
    if isinstance(value, str | int | float | bool):
        value = [value]  # coerceTypes "array"
    if not isinstance(value, list):
        raise _fail(f"{where} must be array")
    if len(value) > MAX_EMAILS:
        raise _fail(f"{where} must NOT have more than {MAX_EMAILS} items")
    if len(value) < minimum:
        raise _fail(f"{where} must NOT have fewer than {minimum} items")
    return [_string(item, f"{where}/{index}") for index, item in enumerate(value)]


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    if value is None:
        return False
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise _fail(f"{where} must be boolean")


@dataclass(frozen=True)
class WarmupBody:
    """The warmup POST body after validation, keeping what was sent and what was not."""

    emails: list[str] | None
    include_all_emails: bool | None
    excluded_emails: list[str] | None
    filter: dict[str, Any] | None
    search: str | None


def validate_warmup_body(body: Any) -> WarmupBody:
    """Check a ``POST /accounts/warmup/{enable,disable}`` body against the spec's schema (§4.1)."""
    if not isinstance(body, dict):
        raise _fail("body must be object")
    emails = _email_list(body, "emails")
    include_all = (
        _boolean(body["include_all_emails"], "body/include_all_emails")
        if "include_all_emails" in body
        else None
    )
    excluded = _email_list(body, "excluded_emails")
    narrowing = body.get("filter")
    if narrowing is not None:
        if not isinstance(narrowing, dict):
            raise _fail("body/filter must be object,null")
        narrowing = dict(narrowing)
        if "tag_id" in narrowing:
            narrowing["tag_id"] = _string(narrowing["tag_id"], "body/filter/tag_id")
        chosen = narrowing.get("filter")
        if chosen is not None:
            if isinstance(chosen, dict | list):
                raise _fail("body/filter/filter must be string,null")
            if _string(chosen, "body/filter/filter") not in ACCOUNT_FILTERS:
                raise _fail("body/filter/filter must be equal to one of the allowed values")
    search = _string(body["search"], "body/search") if "search" in body else None
    return WarmupBody(emails, include_all, excluded, narrowing, search)


def validate_analytics_body(body: Any) -> list[str]:
    """``POST /accounts/warmup-analytics``: ``emails`` required, 1 to 100 items (§7)."""
    if not isinstance(body, dict):
        raise _fail("body must be object")
    if "emails" not in body:
        raise _fail("body must have required property 'emails'")
    emails = _email_list(body, "emails", minimum=1)
    assert emails is not None
    return emails
