"""The generated CRD on a real API server: it is accepted (structural schema, CEL compiles), it
defaults like the models, and it rejects what tests/crd's emulation says it rejects.

Runs only with PERSONIO_OPERATOR_E2E=1 and a KUBECONFIG pointing at a disposable cluster
(Kubernetes >= 1.29, e.g. kind). It applies the CRD server-side and creates and deletes a
namespace of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from personio_operator.api import GROUP, KIND, PLURAL, VERSION
from personio_operator.api.crd import build_crd
from personio_operator.api.spec import PersonioIntegrationSpec
from tests.crd.apiserver import admit
from tests.crd.objects import EXAMPLES, minimal_integration
from tests.crd.test_agreement import BOTH_REFUSE, merge_spec
from tests.crd.test_agreement import CASES as AGREEMENT_CASES
from tests.e2e.conftest import requires_cluster

pytestmark = [pytest.mark.e2e, requires_cluster]


@pytest.fixture(scope="module")
def namespace(kube: Any, crd_applied: dict) -> Iterator[str]:
    name = f"personio-e2e-{uuid.uuid4().hex[:8]}"
    core = kube.CoreV1Api()
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def _create(kube: Any, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {**body, "metadata": {**body["metadata"], "namespace": namespace, "name": f"pi-{uuid.uuid4().hex[:8]}"}}
    return kube.CustomObjectsApi().create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body, field_validation="Strict"
    )


def test_api_server_defaults_like_the_models(kube: Any, namespace: str) -> None:
    integration = minimal_integration()
    stored = _create(kube, namespace, integration)
    model = PersonioIntegrationSpec.model_validate(integration["spec"])
    assert stored["spec"] == model.model_dump(mode="json", by_alias=True, exclude_none=True)


SAMPLES = [
    {"schedule": "*/15 8-18 * * mon-fri"},
    {"schedule": "0 4 * *"},
    {"schedule": "61 * * * *"},
    {"safety": {"maxDeactivations": "10%"}},
    {"safety": {"maxDeactivations": 25}},
    {"safety": {"maxDeactivations": "110%"}},
    {"safety": {"maxDeactivations": "ten"}},
    {"defaultLanguage": "fr"},
    {"timeZone": "Europe/Berlin"},
    {"timeZone": "../etc"},
    {"historyLimit": 0},
    {"scheduel": "0 5 * * *"},
]


@pytest.mark.parametrize("spec", SAMPLES, ids=[str(sample) for sample in SAMPLES])
def test_real_api_server_agrees_with_the_emulation(kube: Any, namespace: str, spec: dict[str, Any]) -> None:
    from kubernetes.client.exceptions import ApiException

    integration = minimal_integration(**spec)
    schema = build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    _, emulated_errors = admit(schema, integration)
    try:
        _create(kube, namespace, integration)
        accepted = True
    except ApiException as error:
        assert error.status in (400, 422), error.body  # 400: strict decoding of an unknown field
        accepted = False
    assert accepted == (emulated_errors == []), emulated_errors


EXAMPLE_INTEGRATIONS = [
    (path.name, doc)
    for path in sorted(EXAMPLES.glob("*.yaml"))
    for doc in yaml.safe_load_all(path.read_text())
    if doc and doc["kind"] == KIND
]


@pytest.mark.parametrize(("name", "integration"), EXAMPLE_INTEGRATIONS, ids=[name for name, _ in EXAMPLE_INTEGRATIONS])
def test_examples_are_admitted_by_the_real_api_server(
    kube: Any, namespace: str, name: str, integration: dict[str, Any]
) -> None:
    stored = _create(kube, namespace, integration)  # strict: an unknown field fails too
    model = PersonioIntegrationSpec.model_validate(integration["spec"])
    assert stored["spec"] == model.model_dump(mode="json", by_alias=True, exclude_none=True), name


@pytest.mark.parametrize(("case", "fragment", "verdict"), AGREEMENT_CASES, ids=[case for case, _, _ in AGREEMENT_CASES])
def test_real_api_server_judges_the_hostile_table_as_the_emulation(
    kube: Any, namespace: str, case: str, fragment: dict[str, Any], verdict: str
) -> None:
    """tests/crd/test_agreement.py's table (hostile Secret names, URLs with credentials, unbounded
    fields, coerced types) on the real API server: stored exactly when the table says so."""
    from kubernetes.client.exceptions import ApiException

    integration = minimal_integration()
    integration["spec"] = merge_spec(integration["spec"], fragment)
    try:
        _create(kube, namespace, integration)
        accepted = True
    except ApiException as error:
        assert error.status in (400, 413, 422), error.body
        accepted = False
    assert accepted == (verdict != BOTH_REFUSE), case
