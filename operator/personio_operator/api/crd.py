"""Generate the PersonioIntegration CRD from the pydantic models.

No well-kept library turns pydantic models into a Kubernetes structural schema, so this is a small
converter of our own: pydantic's JSON schema, then every ``$ref`` inlined, ``anyOf [X, null]``
turned into ``X`` + ``nullable: true``, ``anyOf [string, integer]`` into
``x-kubernetes-int-or-string``, titles dropped, JSON Schema 2020 keywords mapped to their OpenAPI
v3.0 form, and ``x-kubernetes-*`` keys from the models' ``json_schema_extra`` kept.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pydantic_core import core_schema, to_jsonable_python

from personio_operator.api import GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, VERSION
from personio_operator.api.spec import PersonioIntegrationSpec
from personio_operator.api.status import PersonioIntegrationStatus

CRD_NAME = f"{PLURAL}.{GROUP}"
CRD_FILENAME = f"{CRD_NAME}.yaml"
CATEGORIES = ["hrsync"]

# Keys of a Kubernetes JSONSchemaProps this converter passes through unchanged.
_KEPT_KEYS = frozenset(
    {
        "type",
        "format",
        "description",
        "default",
        "enum",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "multipleOf",
        "required",
        "nullable",
    }
)
# Keys that carry no validation and have no place in a CRD.
_DROPPED_KEYS = frozenset({"title", "examples", "$defs", "additionalProperties"})

# List semantics the API server needs to merge lists by key (server-side apply, kopf's patches)
# and that pydantic has no notion of.
_LIST_TYPES: dict[tuple[str, ...], dict[str, Any]] = {
    ("status", "conditions"): {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
}

HEADER = (
    "# Generated from the pydantic models in operator/personio_operator/api/ by\n"
    "#   personio-operator crd --output crds/personiointegrations.hrsync.dev.yaml\n"
    "# Do not edit by hand: tests/crd fails when this file differs from the models.\n"
)


class CrdGenerationError(ValueError):
    """A model uses a construct a Kubernetes structural schema cannot express."""


class _DefaultsFromFactories(GenerateJsonSchema):
    """Also emit defaults that come from ``default_factory``.

    A nested model created by its factory becomes ``{}``: the API server then fills in the nested
    fields' own defaults, so each default is written once, next to its field.
    """

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is None or schema.get("default_factory_takes_data"):
            return super().get_default_value(schema)
        value = factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        return to_jsonable_python(value)


def json_schema(model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
    """Pydantic's JSON schema of ``model`` with camelCase aliases and factory defaults."""
    return model.model_json_schema(by_alias=True, mode=mode, schema_generator=_DefaultsFromFactories)


def structural_schema(
    model: type[BaseModel], *, mode: JsonSchemaMode, path: tuple[str, ...] = (), keep_defaults: bool = True
) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of ``model`` for a CRD; ``path`` is where it sits in the object."""
    source = json_schema(model, mode)
    definitions = source.get("$defs", {})
    return _convert(source, definitions, path=path, keep_defaults=keep_defaults)


def _convert(
    node: dict[str, Any], definitions: dict[str, Any], *, path: tuple[str, ...], keep_defaults: bool
) -> dict[str, Any]:
    where = ".".join(path) or "<root>"
    node = _collapse_any_of(_inline_ref(node, definitions, where), definitions, where)
    if "const" in node:  # Literal["x"]
        node = {**{k: v for k, v in node.items() if k != "const"}, "enum": [node["const"]]}
    for unsupported in ("oneOf", "allOf", "not", "prefixItems", "patternProperties", "discriminator"):
        if unsupported in node:
            raise CrdGenerationError(f"{where}: '{unsupported}' has no structural-schema form; simplify the model")

    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in _KEPT_KEYS or key.startswith("x-kubernetes-"):
            result[key] = copy.deepcopy(value)
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            result["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            result[key] = True  # OpenAPI v3.0: a flag on minimum/maximum
        elif key not in _DROPPED_KEYS and key not in ("properties", "items", "$ref", "anyOf"):
            raise CrdGenerationError(f"{where}: JSON schema keyword '{key}' is not supported by the CRD generator")

    if not keep_defaults or result.get("default", ...) is None:
        result.pop("default", None)

    if "properties" in node:
        result["properties"] = {
            name: _convert(child, definitions, path=(*path, name), keep_defaults=keep_defaults)
            for name, child in node["properties"].items()
        }
    elif result.get("type") == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            result["additionalProperties"] = _convert(
                extra, definitions, path=(*path, "*"), keep_defaults=keep_defaults
            )
        else:
            result["x-kubernetes-preserve-unknown-fields"] = True
    if "items" in node:
        result["items"] = _convert(node["items"], definitions, path=(*path, "[]"), keep_defaults=keep_defaults)
    if not node.get("type") and not result.get("x-kubernetes-int-or-string"):
        if set(node) - {"title", "description", "default", "nullable"}:
            raise CrdGenerationError(f"{where}: a schema without a type: {sorted(node)}")
        result["x-kubernetes-preserve-unknown-fields"] = True  # pydantic's Any
    result.update(_LIST_TYPES.get(path, {}))
    return _ordered(result)


_KEY_ORDER = ("type", "format", "nullable", "description", "default", "enum", "required")


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    """Readable key order: what a node is first, its children last."""
    first = [key for key in _KEY_ORDER if key in node]
    last = [key for key in ("properties", "additionalProperties", "items") if key in node]
    middle = sorted(key for key in node if key not in first and key not in last)
    return {key: node[key] for key in (*first, *middle, *last)}


def _inline_ref(node: dict[str, Any], definitions: dict[str, Any], where: str) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    name = node["$ref"].removeprefix("#/$defs/")
    if name not in definitions:
        raise CrdGenerationError(f"{where}: unresolvable reference {node['$ref']}")
    target = _inline_ref(definitions[name], definitions, where)
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    rules = target.get("x-kubernetes-validations", []) + node.get("x-kubernetes-validations", [])
    if rules:
        merged["x-kubernetes-validations"] = rules
    return merged


def _collapse_any_of(node: dict[str, Any], definitions: dict[str, Any], where: str) -> dict[str, Any]:
    if "anyOf" not in node:
        return node
    variants = [_inline_ref(variant, definitions, where) for variant in node["anyOf"] if variant.get("type") != "null"]
    outer = {k: v for k, v in node.items() if k != "anyOf"}
    if len(variants) < len(node["anyOf"]):
        outer["nullable"] = True
    if len(variants) == 1:
        merged = {**variants[0], **outer}
        rules = variants[0].get("x-kubernetes-validations", []) + outer.get("x-kubernetes-validations", [])
        if rules:
            merged["x-kubernetes-validations"] = rules
        return merged
    if sorted(variant.get("type", "") for variant in variants) == ["integer", "string"] and all(
        set(variant) == {"type"} for variant in variants
    ):
        return {**outer, "x-kubernetes-int-or-string": True}
    raise CrdGenerationError(
        f"{where}: a union of {[v.get('type', v.get('$ref')) for v in variants]} has no structural-schema form; "
        "use one type, Optional[X], or int | str"
    )


def printer_columns() -> list[dict[str, Any]]:
    """What ``kubectl get personiointegrations`` shows. Next Run is text: the time, or why there is none."""
    ready = '.status.conditions[?(@.type=="Ready")]'
    return [
        {"name": "Active", "type": "boolean", "jsonPath": ".spec.active"},
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Last Run", "type": "date", "jsonPath": ".status.lastRunTime"},
        {"name": "Result", "type": "string", "jsonPath": ".status.lastRunResult"},
        {"name": "Next Run", "type": "string", "jsonPath": ".status.nextRun"},
        {"name": "Reason", "type": "string", "priority": 1, "jsonPath": f"{ready}.reason"},
        {"name": "Message", "type": "string", "priority": 1, "jsonPath": f"{ready}.message"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


def open_api_schema() -> dict[str, Any]:
    """The version's ``openAPIV3Schema``."""
    spec = structural_schema(PersonioIntegrationSpec, mode="validation", path=("spec",))
    spec["description"] = "Desired state: where to read people from, where to write them to, and how."
    # Status is written whole by the operator; API-server defaults there would invent state it never observed.
    status = structural_schema(PersonioIntegrationStatus, mode="serialization", path=("status",), keep_defaults=False)
    status["description"] = "Observed state, written only by the operator."
    return {
        "type": "object",
        "description": "Keeps an application's users and teams (SCIM 2.0) in step with Personio.",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


def build_crd() -> dict[str, Any]:
    """The CustomResourceDefinition of PersonioIntegration, as a plain dict."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": list(SHORT_NAMES),
                "categories": list(CATEGORIES),
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": printer_columns(),
                    "schema": {"openAPIV3Schema": open_api_schema()},
                }
            ],
        },
    }


class _CrdDumper(yaml.SafeDumper):
    """Block style, and multi-line strings as literal blocks so descriptions stay readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CrdDumper.add_representer(str, _represent_str)


def render_crd_yaml(crd: dict[str, Any] | None = None) -> str:
    """The CRD as the YAML committed in ``crds/`` (with a do-not-edit header)."""
    body = yaml.dump(
        build_crd() if crd is None else crd, Dumper=_CrdDumper, sort_keys=False, width=120, allow_unicode=True
    )
    return HEADER + "---\n" + body
