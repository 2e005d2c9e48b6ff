"""Strict request parameters: each operation declares its query keys and body fields once; the same
declaration documents them in the OpenAPI document and parses them, rejecting unknown keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import request
from flask_restx import Namespace, fields

from api.errors import BadRequest

#: The largest page a client may ask for; the UI and the client page through anything bigger.
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
#: Far beyond any real page number, but small enough that `skip` never overflows.
MAX_PAGE = 100_000

#: Text never holds NUL characters (MongoDB patterns and LDAP filters have no use for them).
NO_NUL = r"^[^\x00]*$"

_SWAGGER_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "datetime": "string"}


@dataclass(frozen=True)
class Param:
    """One query parameter or body field."""

    name: str
    kind: str = "str"  # str | int | float | bool | datetime | object | list
    help: str = ""
    required: bool = False
    choices: Sequence[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    multiple: bool = False  # a query key that may repeat (?type=a&type=b)
    max_length: int | None = 500
    pattern: str | None = None
    items: str = "str"  # element kind of a list body field

    def swagger(self) -> dict[str, Any]:
        """This parameter as a Swagger 2.0 query parameter."""
        item = self._schema(self.kind)
        if self.multiple:
            spec: dict[str, Any] = {"type": "array", "items": item, "collectionFormat": "multi"}
        else:
            spec = dict(item)
        spec.update({"in": "query", "description": self.help, "required": self.required})
        if self.default is not None:
            spec["default"] = self.default
        return spec

    def _schema(self, kind: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": _SWAGGER_TYPES.get(kind, "string")}
        if kind == "datetime":
            spec["format"] = "date-time"
        if self.choices:
            spec["enum"] = list(self.choices)
        if self.minimum is not None:
            spec["minimum"] = self.minimum
        if self.maximum is not None:
            spec["maximum"] = self.maximum
        if kind == "str" and not self.choices:
            if self.max_length:
                spec["maxLength"] = self.max_length
            spec["pattern"] = self.pattern or NO_NUL
            if self.required:
                spec["minLength"] = 1
        return spec

    def field(self) -> fields.Raw:
        """This parameter as a flask-restx model field (for bodies)."""
        options: dict[str, Any] = {"required": self.required, "description": self.help}
        if self.default is not None:
            options["default"] = self.default
        if self.kind == "int":
            return fields.Integer(min=self.minimum, max=self.maximum, **options)
        if self.kind == "float":
            return fields.Float(min=self.minimum, max=self.maximum, **options)
        if self.kind == "bool":
            return fields.Boolean(**options)
        if self.kind == "datetime":
            return fields.DateTime(**options)
        if self.kind == "object":
            return fields.Raw(**options)
        if self.kind == "list":
            inner = fields.String(enum=list(self.choices) if self.choices else None, max_length=self.max_length,
                                  pattern=None if self.choices else self.pattern or NO_NUL)
            return fields.List(inner, min_items=1 if self.required else None, **options)
        return fields.String(enum=list(self.choices) if self.choices else None, max_length=self.max_length,
                             pattern=None if self.choices else self.pattern or NO_NUL,
                             min_length=1 if self.required else None, **options)

    # -- parsing --------------------------------------------------------------------------------

    def convert(self, raw: Any, where: str) -> Any:
        """The value of this parameter from its raw form; BadRequest naming it when invalid."""
        kind = self.kind
        try:
            if kind == "int":
                if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                    raise ValueError
                value: Any = int(raw)
            elif kind == "float":
                if isinstance(raw, bool):
                    raise ValueError
                value = float(raw)
            elif kind == "bool":
                value = _boolean(raw)
            elif kind == "datetime":
                value = parse_datetime(raw)
            elif kind == "object":
                if not isinstance(raw, dict):
                    raise ValueError
                value = raw
            elif kind == "list":
                if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
                    raise ValueError
                value = [self._check_string(v, where) for v in raw]
                if self.required and not value:
                    raise BadRequest(f"{where} {self.name!r} must not be empty", {"parameter": self.name})
                return value
            else:
                if not isinstance(raw, str):
                    raise ValueError
                value = self._check_string(raw, where)
                if self.required and not value:
                    raise BadRequest(f"{where} {self.name!r} must not be empty", {"parameter": self.name})
        except (TypeError, ValueError, OverflowError):
            raise BadRequest(f"{where} {self.name!r} must be {_expected(self)}, got {str(raw)[:80]!r}",
                             {"parameter": self.name, "expected": _expected(self)}) from None
        if self.minimum is not None and value < self.minimum or self.maximum is not None and value > self.maximum:
            raise BadRequest(f"{where} {self.name!r} must be between {self.minimum} and {self.maximum}, got {value}",
                             {"parameter": self.name, "minimum": self.minimum, "maximum": self.maximum})
        return value

    def _check_string(self, value: str, where: str) -> str:
        if self.choices and value not in self.choices:
            raise BadRequest(f"{where} {self.name!r} must be one of {', '.join(self.choices)}; got {value[:80]!r}",
                             {"parameter": self.name, "choices": list(self.choices)})
        if self.max_length and len(value) > self.max_length:
            raise BadRequest(f"{where} {self.name!r} is longer than {self.max_length} characters",
                             {"parameter": self.name})
        if "\x00" in value:
            raise BadRequest(f"{where} {self.name!r} holds a NUL character", {"parameter": self.name})
        if self.pattern and not re.search(self.pattern, value):
            raise BadRequest(f"{where} {self.name!r} must match {self.pattern}", {"parameter": self.name})
        return value


def _expected(param: Param) -> str:
    return {"int": "an integer", "float": "a number", "bool": "true or false",
            "datetime": "an ISO 8601 date and time (e.g. 2024-05-01T12:00:00Z)", "object": "a JSON object",
            "list": "a list of strings"}.get(param.kind, "a string")


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = str(raw).lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(raw)


def parse_datetime(raw: Any) -> datetime:
    """An aware datetime from ISO 8601 text; naive times are taken as UTC."""
    if not isinstance(raw, str):
        raise ValueError(raw)
    text = raw.strip().upper().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # within hours of year 1 or 9999: as good as the bound itself
        return (datetime.min if value.year < 5000 else datetime.max).replace(tzinfo=UTC)


# -- declared parameter sets ------------------------------------------------------------------

PAGINATION = (
    Param("page", "int", "Page number, from 1.", minimum=1, maximum=MAX_PAGE, default=1),
    Param("page_size", "int", f"Items per page (at most {MAX_PAGE_SIZE}).", minimum=1, maximum=MAX_PAGE_SIZE,
          default=DEFAULT_PAGE_SIZE),
)


@dataclass
class Page:
    """Which slice of a result a client asked for."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.page_size

    def wrap(self, items: list[Any], total: int) -> dict[str, Any]:
        return {"items": items, "total": total, "page": self.page, "page_size": self.page_size}


@dataclass
class Args:
    """Parsed query parameters: attribute access, None for those not given."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    @property
    def page(self) -> Page:
        return Page(self.get("page", 1), self.get("page_size", DEFAULT_PAGE_SIZE))


def parse_query(spec: Sequence[Param]) -> Args:
    """The request's query string against `spec`: unknown keys, repeats and bad values are a 400."""
    declared = {p.name: p for p in spec}
    unknown = sorted(set(request.args) - set(declared))
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)}",
                         {"unknown": unknown, "allowed": sorted(declared)})
    values: dict[str, Any] = {}
    for name, param in declared.items():
        raw = request.args.getlist(name)
        if not raw:
            if param.required:
                raise BadRequest(f"query parameter {name!r} is required", {"parameter": name})
            values[name] = [] if param.multiple else param.default
            continue
        if not param.multiple and len(raw) > 1:
            raise BadRequest(f"query parameter {name!r} is given {len(raw)} times; give it once", {"parameter": name})
        converted = [param.convert(r, "query parameter") for r in raw]
        values[name] = converted if param.multiple else converted[0]
    return Args(values)


def parse_body(spec: Sequence[Param]) -> dict[str, Any]:
    """The request's JSON object against `spec`: unknown keys, missing or ill-typed fields are a 400."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the json module gives up on nesting ~1,000 deep; no field of ours nests at all
        raise BadRequest("the request body is nested too deeply") from None
    if body is None and not request.get_data():
        body = {}
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    declared = {p.name: p for p in spec}
    unknown = sorted(set(body) - set(declared))
    if unknown:
        raise BadRequest(f"unknown field(s) in the body: {', '.join(unknown)}",
                         {"unknown": unknown, "allowed": sorted(declared)})
    values: dict[str, Any] = {}
    for name, param in declared.items():
        if name not in body or body[name] is None:
            if param.required:
                raise BadRequest(f"body field {name!r} is required", {"parameter": name})
            values[name] = param.default
            continue
        values[name] = param.convert(body[name], "body field")
    return values


def query(ns: Namespace, *spec: Param) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document `spec` as the operation's query parameters and pass them parsed as `args=`."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, args=parse_query(spec), **kwargs)
        return ns.doc(params={p.name: p.swagger() for p in spec})(wrapper)
    return decorate


def body(ns: Namespace, name: str, *spec: Param) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document `spec` as the operation's JSON body (no other keys allowed) and pass it as `data=`."""
    model = ns.model(name, {p.name: p.field() for p in spec}, strict=True)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, data=parse_body(spec), **kwargs)
        return ns.expect(model)(wrapper)
    return decorate


def no_query(func: Callable[..., Any]) -> Callable[..., Any]:
    """For operations without query parameters: any key given is a 400."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        parse_query(())
        return func(*args, **kwargs)
    return wrapper
