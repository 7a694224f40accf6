import base64
from pathlib import Path

import pytest

from personio_operator.errors import ConfigurationError
from personio_operator.sync.secrets_source import load_secret_files, resolve_secrets
from tests.sync.factories import make_spec

SECRET_VALUE = "s3cr3t-value-never-shown"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_string_data_and_base64_data_across_documents(tmp_path: Path) -> None:
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    path = write(
        tmp_path,
        "s.yaml",
        f"""apiVersion: v1
kind: Secret
metadata: {{name: personio-credentials}}
stringData: {{clientId: the-id}}
data: {{clientSecret: {encoded}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: scim-token}}
stringData: {{token: tok}}
""",
    )
    secrets = resolve_secrets(make_spec(), load_secret_files([path]), env={})
    assert secrets.personio_client_id == "the-id"
    assert secrets.personio_client_secret.get_secret_value() == SECRET_VALUE
    assert secrets.scim_token.get_secret_value() == "tok"
    assert SECRET_VALUE not in repr(secrets)


def test_environment_fills_the_gaps(tmp_path: Path) -> None:
    env = {"PERSONIO_CLIENT_ID": "i", "PERSONIO_CLIENT_SECRET": "s", "SCIM_TOKEN": "t"}
    secrets = resolve_secrets(make_spec(), {}, env=env)
    assert (secrets.personio_client_id, secrets.scim_token.get_secret_value()) == ("i", "t")


def test_custom_key_names_from_the_spec(tmp_path: Path) -> None:
    spec = make_spec(
        personio={"credentialsSecretRef": {"name": "p", "clientIdKey": "id", "clientSecretKey": "secret"}},
        target={"scim": {"url": "http://127.0.0.1:1/scim/v2", "credentialsSecretRef": {"name": "p", "key": "bearer"}}},
    )
    path = write(tmp_path, "s.yaml", "kind: Secret\nmetadata: {name: p}\nstringData: {id: a, secret: b, bearer: c}\n")
    assert resolve_secrets(spec, load_secret_files([path]), env={}).scim_token.get_secret_value() == "c"


def test_missing_credentials_say_which_and_how(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_secrets(make_spec(), {}, env={"PERSONIO_CLIENT_ID": "i"})
    message = str(caught.value)
    assert "'clientSecret' of Secret 'personio-credentials'" in message and "$PERSONIO_CLIENT_SECRET" in message
    assert "'token' of Secret 'scim-token'" in message and "--secrets" in message
    assert "clientId" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: ConfigMap\nmetadata: {name: x}\n", "not a Kubernetes Secret"),
        ("kind: Secret\nmetadata: {}\n", "no metadata.name"),
        ("kind: Secret\nmetadata: {name: x}\ndata: {token: '%%%notbase64'}\n", "not base64"),
        ("kind: Secret\n  bad: [\n", "not valid YAML"),
    ],
)
def test_bad_secret_files(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected) as caught:
        load_secret_files([write(tmp_path, "s.yaml", text)])
    assert "notbase64" not in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_secret_files([tmp_path / "absent.yaml"])
