from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.crd.objects import COMMITTED_CRD


@pytest.fixture(scope="session")
def committed_crd() -> dict[str, Any]:
    documents = [doc for doc in yaml.safe_load_all(COMMITTED_CRD.read_text()) if doc]
    assert len(documents) == 1, f"{COMMITTED_CRD} must hold exactly one document"
    return documents[0]


@pytest.fixture(scope="session")
def resource_schema(committed_crd: dict[str, Any]) -> dict[str, Any]:
    return committed_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
