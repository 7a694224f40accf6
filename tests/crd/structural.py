"""The structural-schema rules a Kubernetes API server applies when a CRD is created.

A small re-statement of apiextensions-apiserver's CRD validation (``validation.go``,
``structural/validation.go``, ``listtype``, ``defaulting``) for the parts a generator can get wrong.
``structural_errors(crd)`` returns one message per violation, each with the path of the node.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import celpy

from tests.crd.apiserver import default_errors

# Field names of apiextensions/v1 JSONSchemaProps; anything else is rejected by strict decoding.
JSON_SCHEMA_PROPS_FIELDS = frozenset(
    {
        "id",
        "$schema",
        "$ref",
        "description",
        "type",
        "format",
        "title",
        "default",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "multipleOf",
        "enum",
        "maxProperties",
        "minProperties",
        "required",
        "items",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "properties",
        "additionalProperties",
        "patternProperties",
        "dependencies",
        "additionalItems",
        "definitions",
        "externalDocs",
        "example",
        "nullable",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-list-type",
        "x-kubernetes-map-type",
        "x-kubernetes-validations",
    }
)
FORBIDDEN_IN_CRD = ("$ref", "definitions", "dependencies", "additionalItems", "patternProperties", "id", "$schema")
TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})
SCALAR_TYPES = frozenset({"string", "integer", "number", "boolean"})
JUNCTORS = ("allOf", "anyOf", "oneOf", "not")
# Inside a junctor only value validations are allowed (structural schema rule 3).
NOT_IN_JUNCTOR = frozenset({"type", "nullable", "default", "description", "title", "additionalProperties"})
# Formats the API server knows (kube-openapi's strfmt registry); others are ignored with a warning.
FORMATS = frozenset(
    {
        "bsonobjectid",
        "uri",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "cidr",
        "mac",
        "uuid",
        "uuid3",
        "uuid4",
        "uuid5",
        "isbn",
        "isbn10",
        "isbn13",
        "creditcard",
        "ssn",
        "hexcolor",
        "rgbcolor",
        "byte",
        "password",
        "date",
        "duration",
        "datetime",
        "date-time",
        "int32",
        "int64",
        "float",
        "double",
    }
)
_ENUM_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def crd_errors(crd: dict[str, Any]) -> list[str]:
    """Every structural-schema violation in each version's ``openAPIV3Schema``, plus CRD-level checks."""
    errors: list[str] = []
    spec = crd.get("spec", {})
    for version in spec.get("versions", []):
        schema = version.get("schema", {}).get("openAPIV3Schema")
        where = f"versions[{version.get('name')}]"
        if schema is None:
            errors.append(f"{where}: openAPIV3Schema is required")
            continue
        errors += [f"{where}: {error}" for error in structural_errors(schema)]
        if "status" in version.get("subresources", {}) and "status" not in schema.get("properties", {}):
            errors.append(f"{where}: status subresource without a status schema")
        errors += [f"{where}: {error}" for error in _printer_column_errors(version.get("additionalPrinterColumns", []))]
    return errors


def structural_errors(schema: dict[str, Any]) -> list[str]:
    """Every violation of the structural-schema rules in a root ``openAPIV3Schema``."""
    errors = list(_root_errors(schema))
    errors += _node_errors(schema, "openAPIV3Schema", in_junctor=False)
    return errors


def _root_errors(schema: dict[str, Any]) -> Iterator[str]:
    if schema.get("type") != "object":
        yield "openAPIV3Schema: type must be object at the root"
    for key in ("nullable", "x-kubernetes-int-or-string", "default", "x-kubernetes-embedded-resource"):
        if key in schema:
            yield f"openAPIV3Schema: {key} is forbidden at the root"
    metadata = schema.get("properties", {}).get("metadata")
    if metadata is None:
        return
    if set(metadata) - {"type", "properties"}:
        yield f"openAPIV3Schema.properties.metadata: only type and properties are allowed, got {sorted(metadata)}"
    for name, field in metadata.get("properties", {}).items():
        if name not in ("name", "generateName"):
            yield f"openAPIV3Schema.properties.metadata: only name and generateName may be restricted, got {name}"
        elif field.get("type") != "string" or "default" in field:
            yield f"openAPIV3Schema.properties.metadata.{name}: must be a string without a default"


def _node_errors(node: Any, path: str, *, in_junctor: bool) -> list[str]:
    if not isinstance(node, dict):
        return [f"{path}: must be a schema object, got {type(node).__name__}"]
    errors: list[str] = []
    errors += [f"{path}: unknown field {key!r}" for key in node if key not in JSON_SCHEMA_PROPS_FIELDS]
    errors += [f"{path}: {key} is forbidden in a CRD schema" for key in FORBIDDEN_IN_CRD if key in node]
    if node.get("uniqueItems") is True:
        errors.append(f"{path}: uniqueItems cannot be true (quadratic cost); use x-kubernetes-list-type: set")
    if in_junctor:
        errors += [
            f"{path}: {key} is not allowed inside a junctor (value validations only)"
            for key in node
            if key in NOT_IN_JUNCTOR or key.startswith("x-kubernetes-")
        ]
    else:
        errors += _typed_node_errors(node, path)
    for junctor in JUNCTORS:
        if junctor in node:
            children = node[junctor] if isinstance(node[junctor], list) else [node[junctor]]
            for index, child in enumerate(children):
                errors += _node_errors(child, f"{path}.{junctor}[{index}]", in_junctor=True)
    for name, child in node.get("properties", {}).items():
        errors += _node_errors(child, f"{path}.properties.{name}", in_junctor=in_junctor)
    if isinstance(node.get("additionalProperties"), dict):
        errors += _node_errors(node["additionalProperties"], f"{path}.additionalProperties", in_junctor=in_junctor)
    if "items" in node:
        if isinstance(node["items"], list):
            errors.append(f"{path}.items: must be a single schema, not a list")
        else:
            errors += _node_errors(node["items"], f"{path}.items", in_junctor=in_junctor)
    return errors


def _typed_node_errors(node: dict[str, Any], path: str) -> list[str]:
    errors: list[str] = []
    node_type = node.get("type")
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if preserve is not None and preserve is not True:
        errors.append(f"{path}: x-kubernetes-preserve-unknown-fields must be true or absent")
    if int_or_string and node_type:
        errors.append(f"{path}: type must be empty with x-kubernetes-int-or-string")
    if not node_type and not int_or_string and preserve is not True:
        errors.append(f"{path}: type must not be empty (structural schema)")
    if node_type and node_type not in TYPES:
        errors.append(f"{path}: unknown type {node_type!r}")
    if node_type == "array" and "items" not in node:
        errors.append(f"{path}: an array needs items")
    if "additionalProperties" in node:
        if node["additionalProperties"] is False:
            errors.append(f"{path}: additionalProperties cannot be false (the API server prunes instead)")
        if "properties" in node:
            errors.append(f"{path}: additionalProperties and properties are mutually exclusive")
    if ("properties" in node or "additionalProperties" in node) and node_type != "object":
        errors.append(f"{path}: properties need type object")
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in node and not isinstance(node[key], bool):
            errors.append(f"{path}: {key} must be a boolean in OpenAPI v3.0")
    if "format" in node and node["format"] not in FORMATS:
        errors.append(f"{path}: unknown format {node['format']!r}")
    for value in node.get("enum", []):
        if node_type and not _is_of_type(value, node_type) and not (value is None and node.get("nullable")):
            errors.append(f"{path}: enum value {value!r} is not a {node_type}")
    for name in node.get("required", []):
        if name not in node.get("properties", {}) and preserve is not True:
            errors.append(f"{path}: required property {name!r} is not declared")
    errors += _list_type_errors(node, path)
    errors += _validation_rule_errors(node, path)
    if "default" in node:
        errors += [f"{path}: default {error}" for error in default_errors(node)]
    return errors


def _is_of_type(value: Any, node_type: str) -> bool:
    if isinstance(value, bool) and node_type != "boolean":
        return False
    return isinstance(value, _ENUM_TYPES[node_type])


def _list_type_errors(node: dict[str, Any], path: str) -> list[str]:
    list_type = node.get("x-kubernetes-list-type")
    keys = node.get("x-kubernetes-list-map-keys")
    if list_type is None:
        return [f"{path}: x-kubernetes-list-map-keys needs x-kubernetes-list-type: map"] if keys else []
    if node.get("type") != "array":
        return [f"{path}: x-kubernetes-list-type needs type array"]
    items = node.get("items", {})
    if list_type not in ("atomic", "set", "map"):
        return [f"{path}: x-kubernetes-list-type must be atomic, set or map"]
    if list_type == "set" and items.get("type") not in SCALAR_TYPES and items.get("x-kubernetes-map-type") != "atomic":
        return [f"{path}: x-kubernetes-list-type set needs scalar (or atomic) items"]
    if list_type != "map":
        return [f"{path}: x-kubernetes-list-map-keys is only allowed with list-type map"] if keys else []
    if items.get("type") != "object" or not keys:
        return [f"{path}: x-kubernetes-list-type map needs object items and x-kubernetes-list-map-keys"]
    errors = []
    for key in keys:
        field = items.get("properties", {}).get(key)
        if field is None or field.get("type") not in SCALAR_TYPES:
            errors.append(f"{path}: map key {key!r} must be a scalar property of the items")
        elif key not in items.get("required", []) and "default" not in field:
            errors.append(f"{path}: map key {key!r} must be required or have a default")
    return errors


def _validation_rule_errors(node: dict[str, Any], path: str) -> list[str]:
    errors = []
    environment = celpy.Environment()
    for index, validation in enumerate(node.get("x-kubernetes-validations", [])):
        where = f"{path}.x-kubernetes-validations[{index}]"
        rule = validation.get("rule")
        if not isinstance(rule, str) or not rule.strip():
            errors.append(f"{where}: rule is required")
            continue
        message = validation.get("message", "")
        if "\n" in message:
            errors.append(f"{where}: message must not contain line breaks")
        try:
            environment.compile(rule)
        except celpy.CELParseError as error:
            errors.append(f"{where}: rule does not compile: {error}")
    return errors


def _printer_column_errors(columns: list[dict[str, Any]]) -> list[str]:
    errors = []
    for column in columns:
        if column.get("type") not in ("integer", "number", "string", "boolean", "date"):
            errors.append(f"printer column {column.get('name')!r}: unknown type {column.get('type')!r}")
        if not str(column.get("jsonPath", "")).startswith("."):
            errors.append(f"printer column {column.get('name')!r}: jsonPath must start with '.'")
    names = [column.get("name") for column in columns]
    errors += [f"printer column {name!r} is declared twice" for name in set(names) if names.count(name) > 1]
    return errors
