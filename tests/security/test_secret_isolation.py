"""An integration's credentials come only from Secrets in its own namespace, by construction.

Promises pinned here (KMock is the Kubernetes API and records every request it receives):
- a Secret name or namespace that is not a valid Kubernetes name (``../``, encoded slashes,
  backslashes, look-alike characters, whitespace, empty) is refused before any request is sent, by
  the Kubernetes client itself and by the Secret reader, even if it got past the spec's validation;
- a valid name is only ever looked up in the integration's own namespace;
- error messages name only that namespace, and read the same whether or not a Secret of that name
  exists elsewhere (and whether it is missing, unlabelled or not Opaque);
- integrations in the operator's own namespace (Helm's and the operator's Secrets) are refused;
- the admin's limits hold: only allowed Secret names, only Secrets carrying the consent label,
  only Opaque Secrets (never a service-account token), only served namespaces.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import kmock
import kopf
import pytest

from personio_operator.api.spec import (
    PersonioCredentialsRef,
    PersonioIntegrationSpec,
    PersonioSource,
    ScimTargetSpec,
    SecretKeyRef,
    Target,
)
from personio_operator.controller.kube import InvalidNameError, KubeApi, shown
from personio_operator.controller.secrets import read_run_secrets, secret_versions
from personio_operator.controller.settings import OperatorSettings, SecretAccess
from personio_operator.errors import ConfigurationError
from tests.controller.harness import Api

OWN = "tenant-acme"
OTHER = "tenant-globex"
OPERATOR = "personio-system"
SETTINGS = OperatorSettings(operator_namespace=OPERATOR)

HOSTILE_NAMES = [
    "../../tenant-globex/secrets/scim-token",
    "../tenant-globex",
    "scim-token/../../../tenant-globex/secrets/scim-token",
    "..",
    ".",
    "",
    "%2e%2e%2f%2e%2e%2ftenant-globex%2fsecrets%2fscim-token",
    "..%2f..%2ftenant-globex%2fsecrets%2fscim-token",
    "scim-token%2f..",
    "..\\..\\tenant-globex\\secrets\\scim-token",
    "scim-token?watch=true",
    "scim-token#fragment",
    "scim-token;x",
    " scim-token",
    "scim-token ",
    "scim-token\n",
    "scim-token\r\n",
    "scim\ttoken",
    "scim-token\x00",
    "scim-token\u200b",  # zero-width space
    "\u0455cim-token",  # Cyrillic dze, looks like 's'
    "scim\u2024token",  # one dot leader, looks like '.'
    "scim\uff0ftoken",  # full-width solidus
    "\u2025",  # two dot leader, looks like '..'
    "SCIM-TOKEN",
    "scim..token",
    "-scim-token",
    "x" * 254,
]
HOSTILE_NAMESPACES = [
    "../tenant-globex",
    "tenant-acme/../tenant-globex",
    "tenant-acme%2f..%2ftenant-globex",
    "tenant-acme.evil",
    "tenant-acme\n",
    "",
    "Tenant-Acme",
    "x" * 64,
]


@pytest.fixture
async def kube(cluster: kmock.KubernetesEmulator) -> AsyncIterator[KubeApi]:
    client = KubeApi(status_retry_delays=())
    client.use(kopf.ConnectionInfo(server=str(cluster.url).rstrip("/"), scheme="Bearer", token="operator-token"))
    yield client
    await client.aclose()


@pytest.fixture
async def two_tenants(api: Api) -> None:
    """Both tenants hold Secrets with the same names; the operator's namespace holds its own."""
    for namespace in (OWN, OTHER):
        await api.put_secret(
            "personio-credentials",
            {"clientId": f"{namespace}-id", "clientSecret": f"{namespace}-secret"},
            namespace=namespace,
        )
        await api.put_secret("scim-token", {"token": f"{namespace}-token"}, namespace=namespace)
        await api.put_secret("only-in-" + namespace, {"token": f"{namespace}-token"}, namespace=namespace)
    await api.put_secret("smtp-login", {"username": "mailer", "password": "smtp-password"}, namespace=OPERATOR)


def operator_requests(cluster: kmock.KubernetesEmulator) -> list[kmock.Request]:
    """Requests made with the operator's token (the test's own setup carries none)."""
    return [request for request in list(cluster) if request.headers.get("Authorization") == "Bearer operator-token"]


def spec(personio_secret: str = "personio-credentials", scim_secret: str = "scim-token", **keys: str) -> Any:
    """A spec built without validation, as if a hostile name had got past the CRD and the models."""
    personio_ref = PersonioCredentialsRef.model_construct(
        name=personio_secret,
        client_id_key=keys.get("client_id_key", "clientId"),
        client_secret_key=keys.get("client_secret_key", "clientSecret"),
    )
    scim_ref = SecretKeyRef.model_construct(name=scim_secret, key=keys.get("key", "token"))
    personio = PersonioSource.model_construct(credentials_secret_ref=personio_ref)
    target = Target.model_construct(scim=ScimTargetSpec.model_construct(credentials_secret_ref=scim_ref))
    return PersonioIntegrationSpec.model_construct(personio=personio, target=target)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_a_secret_name_cannot_leave_the_namespace_in_the_kubernetes_client(cluster, kube, two_tenants, name):
    with pytest.raises(InvalidNameError):
        await kube.get_secret(OWN, name)
    assert operator_requests(cluster) == [], "no request may be sent for an invalid name"
    # The same client, with a valid name, does reach the API (so the check above could fail).
    assert (await kube.get_secret(OWN, "scim-token"))["metadata"]["namespace"] == OWN
    assert [(request.namespace, request.name) for request in operator_requests(cluster)] == [(OWN, "scim-token")]


@pytest.mark.parametrize("namespace", HOSTILE_NAMESPACES)
async def test_a_namespace_must_be_a_valid_namespace_name_in_the_kubernetes_client(cluster, kube, namespace):
    with pytest.raises(InvalidNameError):
        await kube.get_secret(namespace, "scim-token")
    with pytest.raises(InvalidNameError):
        await kube.get_integration(namespace, "acme")
    with pytest.raises(InvalidNameError):
        await kube.patch_integration_status(namespace, "acme", {"phase": "Active"})
    assert operator_requests(cluster) == []


@pytest.mark.parametrize("name", ["../tenant-globex", "acme/../../x", "acme%2fstatus", ""])
async def test_an_integration_name_cannot_leave_its_path_either(cluster, kube, name):
    with pytest.raises(InvalidNameError):
        await kube.get_integration(OWN, name)
    with pytest.raises(InvalidNameError):
        await kube.patch_integration_status(OWN, name, {"phase": "Active"})
    assert operator_requests(cluster) == []


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_a_secret_name_cannot_leave_the_namespace_in_the_secret_reader(cluster, kube, two_tenants, name):
    for hostile in (spec(scim_secret=name), spec(personio_secret=name)):
        with pytest.raises(ConfigurationError, match="not a valid Kubernetes name") as refused:
            await read_run_secrets(kube, OWN, hostile, SETTINGS)
        told = str(refused.value).replace(shown(name), "NAME")  # besides echoing the spec's own text
        assert OTHER not in told and OPERATOR not in told
        with pytest.raises(ConfigurationError):
            await secret_versions(kube, OWN, [name], SETTINGS)
    assert operator_requests(cluster) == []


async def test_valid_names_are_read_only_from_the_integrations_own_namespace(cluster, kube, two_tenants):
    secrets = await read_run_secrets(kube, OWN, spec(), SETTINGS)
    assert secrets.personio_client_id == f"{OWN}-id"
    assert secrets.scim_token.get_secret_value() == f"{OWN}-token"
    assert await secret_versions(kube, OWN, ["personio-credentials", "scim-token"], SETTINGS) != {}
    requests = operator_requests(cluster)
    assert requests
    assert {(request.namespace, request.resource.plural) for request in requests} == {(OWN, "secrets")}


async def test_the_smtp_login_cannot_be_named_by_an_integration(cluster, kube, two_tenants):
    """The attack of the issue: clientIdKey/clientSecretKey pointed at the operator's SMTP Secret."""
    hostile = spec(personio_secret="smtp-login", client_id_key="username", client_secret_key="password")
    with pytest.raises(ConfigurationError, match=f"Secret 'smtp-login' not found in namespace '{OWN}'"):
        await read_run_secrets(kube, OWN, hostile, SETTINGS)
    assert {request.namespace for request in operator_requests(cluster)} == {OWN}


async def test_errors_do_not_reveal_what_exists_in_another_namespace(cluster, kube, two_tenants):
    """A name that exists only elsewhere and a name that exists nowhere get the same answer."""
    with pytest.raises(ConfigurationError) as elsewhere:
        await read_run_secrets(kube, OWN, spec(scim_secret=f"only-in-{OTHER}"), SETTINGS)
    with pytest.raises(ConfigurationError) as nowhere:
        await read_run_secrets(kube, OWN, spec(scim_secret="only-in-nowhere"), SETTINGS)
    assert str(elsewhere.value).replace(f"only-in-{OTHER}", "NAME") == str(nowhere.value).replace(
        "only-in-nowhere", "NAME"
    )
    assert f"namespace {OWN!r}" in str(elsewhere.value)
    assert OTHER not in str(elsewhere.value).replace(f"only-in-{OTHER}", "")
    assert {request.namespace for request in operator_requests(cluster)} == {OWN}


async def test_integrations_in_the_operators_own_namespace_are_refused(cluster, kube, two_tenants):
    with pytest.raises(ConfigurationError, match=f"operator's own namespace '{OPERATOR}' are not served"):
        await read_run_secrets(kube, OPERATOR, spec("smtp-login", "smtp-login", key="password"), SETTINGS)
    with pytest.raises(ConfigurationError, match="not served"):
        await secret_versions(kube, OPERATOR, ["smtp-login"], SETTINGS)
    assert operator_requests(cluster) == []


async def test_namespaces_outside_the_served_list_are_refused(cluster, kube, two_tenants):
    served_elsewhere = OperatorSettings(operator_namespace=OPERATOR, namespaces=(OTHER,))
    with pytest.raises(ConfigurationError, match=f"namespace '{OWN}' is not served by this operator"):
        await read_run_secrets(kube, OWN, spec(), served_elsewhere)
    assert operator_requests(cluster) == []


async def test_only_secret_names_the_admin_allows_are_read(cluster, kube, two_tenants):
    settings = OperatorSettings(
        operator_namespace=OPERATOR, secret_access=SecretAccess(allowed_names=frozenset({"scim-token", "vault"}))
    )
    with pytest.raises(ConfigurationError) as refused:
        await read_run_secrets(kube, OWN, spec(), settings)
    assert str(refused.value) == (
        "Secret 'personio-credentials' may not be used: the operator's administrator allows only Secrets named "
        "scim-token, vault (chart value secrets.allowedNames). Store the credentials in one of those"
    )
    with pytest.raises(ConfigurationError, match="may not be used"):
        await secret_versions(kube, OWN, ["personio-credentials"], settings)
    assert operator_requests(cluster) == []
    allowed = OperatorSettings(
        operator_namespace=OPERATOR,
        secret_access=SecretAccess(allowed_names=frozenset({"scim-token", "personio-credentials"})),
    )
    assert (await read_run_secrets(kube, OWN, spec(), allowed)).scim_token.get_secret_value() == f"{OWN}-token"


LABEL = "hrsync.dev/personio-operator=allowed"


async def label(api: Api, name: str, value: str = "allowed", namespace: str = OWN) -> None:
    await api._merge(
        f"/api/v1/namespaces/{namespace}/secrets/{name}",
        {"metadata": {"labels": {"hrsync.dev/personio-operator": value}}},
    )


async def test_a_secret_without_the_consent_label_is_not_used(cluster, kube, api, two_tenants):
    settings = OperatorSettings(operator_namespace=OPERATOR, secret_access=SecretAccess(required_label=LABEL))
    await label(api, "personio-credentials")
    await label(api, "scim-token", value="denied")
    with pytest.raises(ConfigurationError) as unlabelled:
        await read_run_secrets(kube, OWN, spec(), settings)
    with pytest.raises(ConfigurationError) as missing:
        await read_run_secrets(kube, OWN, spec(scim_secret="no-such-secret"), settings)
    # One answer for "missing" and "not labelled": editing an integration reveals nothing about Secrets.
    assert str(unlabelled.value).replace("scim-token", "NAME") == str(missing.value).replace("no-such-secret", "NAME")
    assert f"lacks the label {LABEL}" in str(unlabelled.value)
    assert f"kubectl label secret scim-token -n {OWN} {LABEL}" in str(unlabelled.value)
    versions = await secret_versions(kube, OWN, ["personio-credentials", "scim-token"], settings)
    assert versions["scim-token"] == "" and versions["personio-credentials"] != ""

    await label(api, "scim-token")
    assert (await read_run_secrets(kube, OWN, spec(), settings)).scim_token.get_secret_value() == f"{OWN}-token"
    changed = await secret_versions(kube, OWN, ["personio-credentials", "scim-token"], settings)
    assert changed["scim-token"] != "", "labelling a Secret changes its recorded version: a paused run resumes"


@pytest.mark.parametrize(
    "secret_type", ["kubernetes.io/service-account-token", "kubernetes.io/dockerconfigjson", "helm.sh/release.v1"]
)
async def test_only_opaque_secrets_are_used(cluster, kube, api, secret_type):
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": secret_type,
        "metadata": {"name": "scim-token", "namespace": OWN},
        "data": {"token": "c2VydmljZS1hY2NvdW50LXRva2Vu"},
    }
    (await api.http.post(f"/api/v1/namespaces/{OWN}/secrets", json=body)).raise_for_status()
    await api.put_secret("personio-credentials", {"clientId": "id", "clientSecret": "secret"})
    with pytest.raises(ConfigurationError, match=re.escape("Secret 'scim-token' not found in namespace 'tenant-acme'")):
        await read_run_secrets(kube, OWN, spec(), SETTINGS)


@pytest.mark.parametrize("key", ["../token", "token\n", "to ken", "", "tök"])
async def test_a_hostile_secret_key_is_refused_before_reading(cluster, kube, two_tenants, key):
    with pytest.raises(ConfigurationError, match="not a valid key name"):
        await read_run_secrets(kube, OWN, spec(key=key), SETTINGS)
    assert operator_requests(cluster) == []
