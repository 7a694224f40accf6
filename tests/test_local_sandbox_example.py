"""examples/cluster/local-sandbox.yaml works as the local quickstart its header describes: the two
server commands written there, run as written (on free ports instead of 18080/18081), accept the
example's URLs and credentials, and a Test of the example's integration passes.

The cluster half (the operator on kind) is tests/e2e; this half needs no cluster."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from personio_operator.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cluster" / "local-sandbox.yaml"
PORTS = ("18080", "18081")  # the example's ports for the Personio sandbox and the SCIM app
EXECUTABLES = {
    "personio-operator": [sys.executable, "-c", "from personio_operator.cli import main; main()"],
    "scim2-server": [sys.executable, "-m", "scim2_server.testserver.cli"],
}


def header_commands() -> list[list[str]]:
    """The server commands in the example's header comment (indented lines starting with their name)."""
    commands = []
    for line in EXAMPLE.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.removeprefix("#   ")
        if text.startswith(("personio-operator sandbox ", "scim2-server ")):
            commands.append(shlex.split(text, comments=True))
    return commands


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def wait_for_port(port: str, process: subprocess.Popen, log: Path, *, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{shlex.join(map(str, process.args))} exited:\n{log.read_text()}"
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on 127.0.0.1:{port} within {within}s:\n{log.read_text()}")


@pytest.fixture
def ports(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The header's server commands running, each example port mapped to the free port it got."""
    commands = header_commands()
    assert [c[0] for c in commands] == ["personio-operator", "scim2-server"], commands
    mapping = {port: free_port() for port in PORTS}
    processes = []
    try:
        for index, words in enumerate(commands):
            args = [*EXECUTABLES[words[0]], *(mapping.get(word, word) for word in words[1:])]
            assert set(mapping.values()) & set(args), f"no example port in {shlex.join(words)}"
            log = tmp_path / f"server-{index}.log"
            with log.open("w") as sink:
                process = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT)
            processes.append(process)
            port = next(arg for arg in args if arg in mapping.values())
            wait_for_port(port, process, log)
        yield mapping
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_quickstart_servers_serve_the_example(tmp_path: Path, ports: dict[str, str]) -> None:
    text = EXAMPLE.read_text()
    for example_port, port in ports.items():
        text = text.replace(f"127.0.0.1:{example_port}", f"127.0.0.1:{port}")
    documents = [doc for doc in yaml.safe_load_all(text) if doc]
    integration = tmp_path / "integration.yaml"
    integration.write_text(yaml.safe_dump(next(d for d in documents if d["kind"] == "PersonioIntegration")))
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(yaml.safe_dump_all([d for d in documents if d["kind"] == "Secret"]))

    local = ["--allow-url", "http://127.0.0.1:*"]  # both servers are local and plain http, which the default refuses
    result = CliRunner().invoke(main, ["plan", "-f", str(integration), "--secrets", str(secrets), *local], env={})
    assert result.exit_code == 0, result.output
    assert "✓ ok (test)" in result.output
    assert "Plan: users:" in result.output and "to create" in result.output
