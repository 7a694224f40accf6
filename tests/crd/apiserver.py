"""What a Kubernetes API server does with an object of a CRD: default it, validate it against the
OpenAPI v3 schema (strict field validation, as kubectl asks for), and run the CEL rules.

The OpenAPI v3.0 schema is translated to JSON Schema 2020-12 for ``jsonschema``: ``nullable``
becomes a ``null`` type, ``x-kubernetes-int-or-string`` an integer-or-string type, boolean
``exclusiveMinimum`` the numeric form, and declared objects reject unknown fields.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import celpy
import jsonschema


def to_json_schema(node: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema 2020-12 document that accepts what the API server accepts for ``node``."""
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "items", "additionalProperties", "nullable", "default", "description"):
            continue
        if key.startswith("x-kubernetes-") or key in ("exclusiveMinimum", "exclusiveMaximum"):
            continue
        if key in ("allOf", "anyOf", "oneOf"):
            result[key] = [to_json_schema(child) for child in value]
        elif key == "not":
            result[key] = to_json_schema(value)
        else:
            result[key] = copy.deepcopy(value)
    if node.get("exclusiveMinimum") is True:
        result["exclusiveMinimum"] = result.pop("minimum")
    if node.get("exclusiveMaximum") is True:
        result["exclusiveMaximum"] = result.pop("maximum")
    types = [node["type"]] if "type" in node else []
    if node.get("x-kubernetes-int-or-string"):
        types = ["integer", "string"]
    if types and node.get("nullable"):
        types.append("null")
        if "enum" in result:
            result["enum"] = [*result["enum"], None]
    if types:
        result["type"] = types[0] if len(types) == 1 else types
    if "properties" in node:
        result["properties"] = {name: to_json_schema(child) for name, child in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields"):
            result["additionalProperties"] = False
    if isinstance(node.get("additionalProperties"), dict):
        result["additionalProperties"] = to_json_schema(node["additionalProperties"])
    if "items" in node:
        result["items"] = to_json_schema(node["items"])
    return result


def apply_defaults(node: dict[str, Any], value: Any) -> Any:
    """The API server's structural defaulting: missing fields get their default, then descend."""
    value = copy.deepcopy(value)
    _default_in_place(node, value)
    return value


def _default_in_place(node: dict[str, Any], value: Any) -> None:
    if isinstance(value, dict):
        for name, child in node.get("properties", {}).items():
            missing = name not in value or (value[name] is None and not child.get("nullable"))
            if missing and "default" in child:
                value[name] = copy.deepcopy(child["default"])
            if name in value:
                _default_in_place(child, value[name])
        if isinstance(node.get("additionalProperties"), dict):
            for item in value.values():
                _default_in_place(node["additionalProperties"], item)
    elif isinstance(value, list) and "items" in node:
        for item in value:
            _default_in_place(node["items"], item)


def re2_end_anchors(pattern: str) -> str:
    """The pattern with RE2's meaning of ``$`` (end of text) for Python's ``re``, where ``$`` also
    matches before a final newline: every ``$`` outside a character class becomes ``\\Z``."""
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif in_class:
            out.append(char)
            in_class = char != "]"
        elif char == "[":
            out.append(char)
            in_class = True
        else:
            out.append("\\Z" if char == "$" else char)
    return "".join(out)


def _re2_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if isinstance(instance, str) and not re.search(re2_end_anchors(pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# The API server evaluates OpenAPI patterns with Go's RE2: ``$`` is the end of the text.
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _re2_pattern})


def schema_errors(node: dict[str, Any], value: Any) -> list[str]:
    """Violations of the OpenAPI schema (types, bounds, patterns, enums, required, unknown fields)."""
    validator = _Validator(to_json_schema(node), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [f"{_path(error.absolute_path)}: {error.message}" for error in validator.iter_errors(value)]


def cel_errors(node: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Messages of the ``x-kubernetes-validations`` rules that reject ``value`` (or fail to evaluate)."""
    if value is None:
        return []
    errors: list[str] = []
    environment = celpy.Environment()
    for validation in node.get("x-kubernetes-validations", []):
        program = environment.program(environment.compile(validation["rule"]))
        try:
            verdict = program.evaluate({"self": celpy.json_to_cel(value)})
        except celpy.CELEvalError as error:
            verdict = error
        if isinstance(verdict, celpy.CELEvalError):
            errors.append(f"{path or '<root>'}: rule {validation['rule']!r} failed to evaluate: {verdict}")
        elif not (isinstance(verdict, celpy.celtypes.BoolType) and bool(verdict)):
            errors.append(f"{path or '<root>'}: {validation.get('message', validation['rule'])}")
    if isinstance(value, dict):
        for name, child in node.get("properties", {}).items():
            if name in value:
                errors += cel_errors(child, value[name], f"{path}.{name}")
        if isinstance(node.get("additionalProperties"), dict):
            for name, item in value.items():
                errors += cel_errors(node["additionalProperties"], item, f"{path}.{name}")
    elif isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            errors += cel_errors(node["items"], item, f"{path}[{index}]")
    return errors


def admit(node: dict[str, Any], value: Any) -> tuple[Any, list[str]]:
    """Default ``value``, then validate it as a create request would: the stored object and the errors."""
    defaulted = apply_defaults(node, value)
    errors = schema_errors(node, defaulted)
    return defaulted, errors + (cel_errors(node, defaulted) if not errors else [])


def default_errors(node: dict[str, Any]) -> list[str]:
    """A default must itself be a valid (and pruned) value of its node, after its own nested defaults."""
    _, errors = admit(node, node["default"])
    return errors


def _path(parts: Any) -> str:
    return "." + ".".join(str(part) for part in parts) if parts else "<root>"
