"""The committed CRD (and the chart's copy) is exactly what the models generate."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from personio_operator.api import GROUP, KIND, PLURAL, VERSION
from personio_operator.api.crd import build_crd, render_crd_yaml
from personio_operator.cli import main
from tests.crd.objects import CHART_CRD, COMMITTED_CRD

REGENERATE = (
    "the CRD is out of date with the models in operator/personio_operator/api/; regenerate it with\n"
    "  personio-operator crd -o crds/personiointegrations.hrsync.dev.yaml\n"
    "  personio-operator crd -o charts/personio-operator/crds/personiointegrations.hrsync.dev.yaml"
)


def test_committed_crd_matches_the_models() -> None:
    assert COMMITTED_CRD.read_text() == render_crd_yaml(), REGENERATE


def test_chart_ships_the_same_crd() -> None:
    assert CHART_CRD.read_text() == COMMITTED_CRD.read_text(), REGENERATE


def test_rendered_yaml_round_trips_to_the_built_crd() -> None:
    assert yaml.safe_load(render_crd_yaml()) == build_crd()


def test_cli_prints_and_writes_the_crd(tmp_path: Path) -> None:
    printed = CliRunner().invoke(main, ["crd"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == render_crd_yaml()

    target = tmp_path / "out" / "crd.yaml"
    written = CliRunner().invoke(main, ["crd", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text() == render_crd_yaml()


def test_crd_identity_and_subresources() -> None:
    crd = build_crd()
    assert crd["metadata"]["name"] == f"{PLURAL}.{GROUP}"
    assert crd["spec"]["names"]["kind"] == KIND
    assert "pi" in crd["spec"]["names"]["shortNames"]
    (version,) = crd["spec"]["versions"]
    assert version["name"] == VERSION
    assert version["served"] and version["storage"]
    assert version["subresources"] == {"status": {}}


def test_printer_columns_point_at_declared_fields() -> None:
    (version,) = build_crd()["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    columns = {column["name"]: column for column in version["additionalPrinterColumns"]}
    wanted = ["Active", "Phase", "Last Run", "Result", "Next Run"]
    assert [name for name in columns if name in wanted] == wanted
    assert list(columns)[-1] == "Age"
    # A future timestamp in a date column prints <invalid>; the next run is shown as text.
    assert columns["Next Run"]["type"] == "string"
    assert columns["Last Run"]["type"] == "date"
    for column in columns.values():
        path = column["jsonPath"].split("[")[0].strip(".").split(".")
        if path[0] == "metadata":
            continue
        node = schema
        for part in path:
            assert part in node.get("properties", {}), f"column {column['name']} reads undeclared {column['jsonPath']}"
            node = node["properties"][part]
