"""``personio-operator sandbox``: serves until interrupted and prints its URL and credentials."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from personio_operator.cli import main

COMMAND = Path(sys.executable).parent / "personio-operator"  # the installed console script


def test_help_documents_the_default_credentials():
    result = CliRunner().invoke(main, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "sandbox-client" in result.output
    assert "sandbox-secret" in result.output


def test_bad_fixture_is_a_clear_error(tmp_path):
    broken = tmp_path / "company.yaml"
    broken.write_text("persons: [{id: 1, employments: [{team_id: 4}]}]")
    result = CliRunner().invoke(main, ["sandbox", "--fixture", str(broken)])
    assert result.exit_code != 0
    assert "team 4, which does not exist" in result.output


def test_serves_until_interrupted():
    process = subprocess.Popen(
        [str(COMMAND), "sandbox", "--port", "0", "--employees", "12", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert "Personio sandbox serving 12 generated people" in first_line
        base_url = first_line.rsplit(" at ", 1)[1].strip()
        token = httpx.post(
            f"{base_url}/v2/auth/token",
            data={"grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret"},
        ).json()["access_token"]
        persons = httpx.get(
            f"{base_url}/v2/persons", params={"limit": 50}, headers={"Authorization": f"Bearer {token}"}
        )
        assert len(persons.json()["_data"]) == 12
    finally:
        process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30  # generous: a loaded CI machine stops uvicorn slowly
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
