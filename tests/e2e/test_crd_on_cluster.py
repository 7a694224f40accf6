"""The generated CRD on a real API server: it is accepted (structural schema, CEL compiles), it
defaults like the models, and it rejects what tests/crd's emulation says it rejects.

Runs only with PERSONIO_OPERATOR_E2E=1 and a KUBECONFIG pointing at a disposable cluster
(Kubernetes >= 1.29, e.g. kind). It applies the CRD server-side and creates and deletes a
namespace of its own.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from personio_operator.api import GROUP, PLURAL, VERSION
from personio_operator.api.crd import CRD_NAME, build_crd
from personio_operator.api.spec import PersonioIntegrationSpec
from tests.crd.apiserver import admit
from tests.crd.objects import minimal_integration

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        os.environ.get("PERSONIO_OPERATOR_E2E") != "1" or not os.environ.get("KUBECONFIG"),
        reason="needs PERSONIO_OPERATOR_E2E=1 and KUBECONFIG (a disposable cluster)",
    ),
]

FIELD_MANAGER = "personio-operator-e2e"


@pytest.fixture(scope="module")
def api() -> Any:
    from kubernetes import client, config

    config.load_kube_config()
    return client


@pytest.fixture(scope="module")
def crd_applied(api: Any) -> None:
    extensions = api.ApiextensionsV1Api()
    extensions.patch_custom_resource_definition(
        CRD_NAME, build_crd(), field_manager=FIELD_MANAGER, force=True, _content_type="application/apply-patch+yaml"
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conditions = extensions.read_custom_resource_definition(CRD_NAME).status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        time.sleep(0.5)
    pytest.fail(f"CRD {CRD_NAME} was not Established within 60 s")


@pytest.fixture(scope="module")
def namespace(api: Any, crd_applied: None) -> Iterator[str]:
    name = f"personio-e2e-{uuid.uuid4().hex[:8]}"
    core = api.CoreV1Api()
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def _create(api: Any, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {**body, "metadata": {**body["metadata"], "namespace": namespace, "name": f"pi-{uuid.uuid4().hex[:8]}"}}
    return api.CustomObjectsApi().create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body, field_validation="Strict"
    )


def test_api_server_defaults_like_the_models(api: Any, namespace: str) -> None:
    integration = minimal_integration()
    stored = _create(api, namespace, integration)
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
def test_real_api_server_agrees_with_the_emulation(api: Any, namespace: str, spec: dict[str, Any]) -> None:
    from kubernetes.client.exceptions import ApiException

    integration = minimal_integration(**spec)
    schema = build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    _, emulated_errors = admit(schema, integration)
    try:
        _create(api, namespace, integration)
        accepted = True
    except ApiException as error:
        assert error.status in (400, 422), error.body  # 400: strict decoding of an unknown field
        accepted = False
    assert accepted == (emulated_errors == []), emulated_errors
