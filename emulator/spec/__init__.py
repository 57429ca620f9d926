"""Discord's own OpenAPI spec as the emulator's referee.

``openapi.json`` is Discord's description of the v10 HTTP API (discord/discord-api-spec,
MIT licence in ``LICENSE`` beside it, commit 74fda0fa). It is loaded once per process;
every operation's request body, query parameters and responses get a jsonschema
Draft 2020-12 validator (OpenAPI 3.1 schemas are JSON Schema) whose ``$ref``\\ s resolve
through a :mod:`referencing` registry holding the whole document.

Before compiling, the nodes named in :data:`emulator.spec.accepted.ACCEPTED` are widened
(what discord.py sends and Discord takes although the spec does not say so); after the
schema, :mod:`emulator.spec.limits` adds the limits the spec cannot express. Failures come
back as Discord's ``50035 Invalid Form Body`` ``errors`` tree.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import limits
from .accepted import ACCEPTED, Deviation

BASE_URI = "urn:discord-api-spec"
_PARAM = re.compile(r"\{[^}]+\}")
_INTEGER = re.compile(r"^-?[0-9]+$")


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


@dataclass
class Operation:
    """One spec operation with its compiled validators (``None``: nothing declared)."""

    operation_id: str
    method: str
    path: str
    body: Draft202012Validator | None = None
    body_required: bool = False
    query: Draft202012Validator | None = None
    query_types: dict[str, str] = field(default_factory=dict)
    responses: dict[str, Draft202012Validator | None] = field(default_factory=dict)

    def response_validator(self, status: int) -> Draft202012Validator | None:
        """The validator for ``status`` (exact code, then ``4XX``-style ranges)."""
        for key in (str(status), f"{str(status)[0]}XX"):
            if key in self.responses:
                return self.responses[key]
        return None

    def documents(self, status: int) -> bool:
        return str(status) in self.responses or f"{str(status)[0]}XX" in self.responses


def _pointer_matches(pattern: list[str], pointer: list[str]) -> bool:
    """Segments match by fnmatch; ``**`` matches any number of them."""
    if not pattern:
        return not pointer
    if pattern[0] == "**":
        return any(_pointer_matches(pattern[1:], pointer[i:]) for i in range(len(pointer) + 1))
    return (
        bool(pointer)
        and fnmatch.fnmatchcase(pointer[0], pattern[0])
        and _pointer_matches(pattern[1:], pointer[1:])
    )


def _widen(doc: dict[str, Any], deviation: Deviation) -> int:
    """Replace each node the deviation targets by ``anyOf: [node, widen]``; count them."""
    hits = 0
    patterns = [
        [s.replace("~1", "/").replace("~0", "~") for s in t.strip("/").split("/")]
        for t in deviation.targets
    ]

    def visit(node: Any, at: list[str]) -> Any:
        nonlocal hits
        if isinstance(node, dict):
            if any(_pointer_matches(p, at) for p in patterns) and all(
                node.get(k) == v for k, v in deviation.only_if.items()
            ):
                hits += 1
                return {"anyOf": [node, deviation.widen]}
            return {k: visit(v, [*at, k]) for k, v in node.items()}
        if isinstance(node, list):
            return [visit(v, [*at, str(i)]) for i, v in enumerate(node)]
        return node

    doc.update(visit(doc, []))
    return hits


_ANNOTATIONS = {"const", "title", "description"}
#: Keyword added by :func:`_simplify`: ``{repr(type value): branch schema}``.
TAGGED = "x-emulator-tagged-union"


def _tagged(
    validator: Any, branches: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if isinstance(instance, dict):
        branch = branches.get(repr(instance.get("type")))
        if branch is not None:
            yield from validator.descend(instance, branch)


Validator = validators.extend(Draft202012Validator, {TAGGED: _tagged})


def _simplify(doc: dict[str, Any]) -> int:
    """Rewrite what jsonschema checks slowly into equivalents it checks fast; count them.

    The spec writes enums as a ``oneOf`` of titled ``const`` values: they become ``enum``\\ s.

    The spec's component, option and callback unions are ``oneOf``/``anyOf`` whose branches
    each require a ``type`` from their own set of values. jsonschema must try every branch of
    a ``oneOf`` (a message's components cost ~2 ms that way); the :data:`TAGGED` keyword
    checks only the branch whose tag the instance carries. Equivalent for tagged objects,
    and the errors then come from the branch the sender meant.
    """

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
            target: Any = doc
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def tags(branch: Any) -> list[Any]:
        schema = resolve(branch)
        if not isinstance(schema, dict) or "type" not in schema.get("required", []):
            return []
        enum = resolve(schema.get("properties", {}).get("type", {})).get("enum")
        return list(enum) if isinstance(enum, list) else []

    count = 0

    def visit(node: Any) -> Any:
        nonlocal count
        if isinstance(node, list):
            return [visit(v) for v in node]
        if not isinstance(node, dict):
            return node
        node = {k: visit(v) for k, v in node.items()}
        branches = node.get("oneOf")
        if (
            isinstance(branches, list)
            and branches
            and all(
                isinstance(b, dict) and "const" in b and set(b) <= _ANNOTATIONS for b in branches
            )
        ):  # an enum written as one titled ``const`` per value
            count += 1
            node["enum"] = [b["const"] for b in node.pop("oneOf")]
        for key in ("oneOf", "anyOf"):
            branches = node.get(key)
            if not isinstance(branches, list) or len(branches) < 2:
                continue
            by_tag = {repr(t): b for b in branches for t in tags(b)}
            values = [t for b in branches for t in tags(b)]
            if not all(tags(b) for b in branches) or len(by_tag) != len(values):
                continue  # a branch without a tag, or two sharing one: leave it to jsonschema
            count += 1
            del node[key]
            node.setdefault("allOf", []).append(
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"enum": values}},
                    TAGGED: by_tag,
                }
            )
        return node

    doc.update(visit(doc))
    return count


class Spec:
    """The loaded spec: operations by ``(METHOD, path template)``, validators compiled."""

    def __init__(self, document: dict[str, Any]) -> None:
        doc = copy.deepcopy(document)
        for deviation in ACCEPTED:
            if deviation.targets and _widen(doc, deviation) == 0:
                raise ValueError(f"accepted deviation matches nothing in the spec: {deviation}")
        _simplify(doc)
        self.document = doc
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(BASE_URI, resource)
        self.operations: dict[tuple[str, str], Operation] = {}
        for path, item in doc["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                key = (method.upper(), _PARAM.sub("{}", path))
                self.operations[key] = self._compile(path, method, op, shared)

    def _validator(self, pointer: str) -> Draft202012Validator:
        schema = {"$ref": f"{BASE_URI}#{pointer}"}
        return Validator(schema, registry=self.registry)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.registry.resolver(BASE_URI).lookup(BASE_URI + schema["$ref"]).contents
        return schema

    def _compile(
        self, path: str, method: str, op: dict[str, Any], shared: list[dict[str, Any]]
    ) -> Operation:
        at = f"/paths/{_escape(path)}/{method}"
        result = Operation(op.get("operationId", f"{method} {path}"), method.upper(), path)
        body = op.get("requestBody")
        if body is not None:
            content = body.get("content", {})
            ctype = "application/json" if "application/json" in content else next(iter(content))
            result.body = self._validator(f"{at}/requestBody/content/{_escape(ctype)}/schema")
            result.body_required = bool(body.get("required"))
        props: dict[str, Any] = {}
        required: list[str] = []
        for where, params in ((f"/paths/{_escape(path)}", shared), (at, op.get("parameters", []))):
            for i, param in enumerate(params):
                if param.get("in") != "query":
                    continue
                name = param["name"]
                props[name] = {"$ref": f"{BASE_URI}#{where}/parameters/{i}/schema"}
                if param.get("required"):
                    required.append(name)
                kind = self._resolve(param["schema"])
                if "anyOf" in kind:  # widened by a deviation: the original comes first
                    kind = self._resolve(kind["anyOf"][0])
                result.query_types[name] = str(kind.get("type", "string"))
        for deviation in ACCEPTED:
            if deviation.query_param and deviation.query_param[0] == result.operation_id:
                props[deviation.query_param[1]] = deviation.widen
        if props:
            schema = {
                "type": "object",
                "properties": props,
                "required": required,
                "additionalProperties": False,
            }
            result.query = Validator(schema, registry=self.registry)
        for status, response in op.get("responses", {}).items():
            pointer = f"{at}/responses/{status}"
            if "$ref" in response:
                pointer = response["$ref"][1:]
                response = self._resolve(response)
            content = response.get("content", {})
            if "application/json" in content:
                result.responses[status] = self._validator(
                    f"{pointer}/content/application~1json/schema"
                )
            else:
                result.responses[status] = None
        return result

    def operation(self, method: str, template: str) -> Operation | None:
        """The spec operation an emulator route template serves (names of params may differ)."""
        return self.operations.get((method.upper(), _PARAM.sub("{}", template)))

    # ------------------------------------------------------------------ checks
    def request_errors(
        self, op: Operation, body: Any, query: dict[str, list[str]]
    ) -> dict[str, Any]:
        """Discord's 50035 ``errors`` tree for a request (empty: on spec)."""
        errors: dict[str, Any] = {}
        if op.body is not None and (body is not None or op.body_required):
            _collect(op.body, {} if body is None else body, errors)
        if query or op.query is not None:
            coerced: dict[str, Any] = {}
            for name, values in query.items():
                value: Any = values[-1]
                kind = op.query_types.get(name)
                if kind == "integer" and _INTEGER.match(value):
                    value = int(value)
                elif kind == "boolean" and value in ("true", "false"):
                    value = value == "true"
                coerced[name] = value
            if op.query is None:
                for name in coerced:
                    _put(errors, [name], "UNKNOWN_FIELD", "Not a known field")
            else:
                _collect(op.query, coerced, errors)
        if not errors and body is not None:
            errors = limits.check(op.operation_id, body)
        return errors

    def response_errors(self, op: Operation, status: int, body: Any) -> dict[str, Any]:
        """The same tree for a response body against the documented schema of ``status``."""
        errors: dict[str, Any] = {}
        if not op.documents(status):
            _put(errors, [], "UNDOCUMENTED_STATUS", f"{status} is not a documented response")
            return errors
        validator = op.response_validator(status)
        if validator is None:
            if body is not None:
                _put(errors, [], "UNDOCUMENTED_BODY", f"{status} is documented without a body")
            return errors
        _collect(validator, body, errors)
        return errors


# ---------------------------------------------------------------- error tree
_CODES = {
    "required": "BASE_TYPE_REQUIRED",
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "maximum": "NUMBER_TYPE_MAX",
    "minimum": "NUMBER_TYPE_MIN",
    "enum": "BASE_TYPE_CHOICES",
    "const": "BASE_TYPE_CHOICES",
    "pattern": "BASE_TYPE_INVALID",
    "additionalProperties": "UNKNOWN_FIELD",
    "type": "BASE_TYPE_BAD_TYPE",
}


def _message(error: ValidationError) -> str:
    v, value = error.validator, error.validator_value
    if v == "required":
        return "This field is required"
    if v in ("maxLength", "maxItems"):
        return f"Must be {value} or fewer in length."
    if v in ("minLength", "minItems"):
        return f"Must be {value} or more in length."
    if v == "type":
        return f"Must be of type {value}; got {type(error.instance).__name__}."
    return error.message[:300]


def _put(errors: dict[str, Any], path: list[str], code: str, message: str) -> None:
    node = errors
    for key in path:
        node = node.setdefault(key, {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The errors worth reporting under an ``anyOf``/``oneOf`` failure.

    The branch the sender meant is the one whose tag (``type``, ``entity_type``) matched, the
    one that failed deepest, then the one with the fewest errors; its errors are reported.
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)

    def rank(errs: list[ValidationError]) -> tuple[bool, int, int]:
        missed = any(  # a tag such as ``type`` or ``entity_type`` did not match
            e.validator in ("enum", "const") and len(e.relative_path) == 1 for e in errs
        )
        return (missed, -max(len(e.absolute_path) for e in errs), len(errs))

    best = min(branches.values(), key=rank)
    shallow = max(len(e.absolute_path) for e in best) <= len(error.absolute_path)
    if shallow and all(e.validator == "type" for e in best):
        return [error]  # no branch got in: say what was expected instead
    return [leaf for sub in best for leaf in _leaves(sub)]


def _collect(validator: Draft202012Validator, instance: Any, errors: dict[str, Any]) -> None:
    for error in validator.iter_errors(instance):
        for leaf in _leaves(error):
            path = [str(p) for p in leaf.absolute_path]
            if leaf.validator == "required":
                missing = re.match(r"'(.+?)' is a required property", leaf.message)
                if missing:
                    path.append(missing.group(1))
            elif leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                allowed = leaf.schema.get("properties", {}) if isinstance(leaf.schema, dict) else {}
                for extra in leaf.instance:
                    if extra not in allowed:
                        _put(errors, [*path, extra], "UNKNOWN_FIELD", "Not a known field")
                continue
            if leaf.validator in ("anyOf", "oneOf"):
                message = "Value does not match any accepted form."
                _put(errors, path, "BASE_TYPE_BAD_TYPE", message)
                continue
            _put(errors, path, _CODES.get(str(leaf.validator), "BASE_TYPE_INVALID"), _message(leaf))


@functools.cache
def load() -> Spec:
    """The vendored spec, parsed and compiled once per process."""
    text = resources.files(__package__).joinpath("openapi.json").read_text(encoding="utf-8")
    return Spec(json.loads(text))


__all__ = ["ACCEPTED", "Deviation", "Operation", "Spec", "limits", "load"]
