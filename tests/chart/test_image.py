"""The image, as far as a machine without a Docker engine can check it.

- The Dockerfile parses (dockerfile-parse, Docker's own instruction rules) into a build and a final stage
  on the same Python image, whose Python version pyproject's requires-python admits.
- The build stage installs the operator without extras; the final stage installs nothing and copies only
  the virtualenv.
- The entry point is the console script of pyproject's [project.scripts] (the chart runs the same), and
  its default arguments are ones `personio-operator run` accepts.
- The user is numeric and non-root, and is the chart's runAsUser/runAsGroup; HOME and TMPDIR are /tmp,
  the only place the chart lets the container write.
- That console script, installed fresh from exactly the files the Dockerfile copies into a read-only
  virtualenv, starts (`--help`, `run --help`) as that numeric user with HOME and TMPDIR in a temp dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
from click.testing import CliRunner
from dockerfile_parse import DockerfileParser
from packaging.specifiers import SpecifierSet

from personio_operator.cli import main
from tests.chart.conftest import render

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETPRIV = shutil.which("setpriv")


def _stages() -> list[list[dict[str, Any]]]:
    """The Dockerfile's instructions (comments left out), one list per FROM."""
    stages: list[list[dict[str, Any]]] = []
    for instruction in DockerfileParser(path=str(REPO / "Dockerfile")).structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages and instruction["instruction"] != "COMMENT":
            stages[-1].append(instruction)
    return stages


def _values(stage: list[dict[str, Any]], name: str) -> list[str]:
    return [instruction["value"] for instruction in stage if instruction["instruction"] == name]


def _final() -> list[dict[str, Any]]:
    return _stages()[-1]


def _console_script() -> str:
    (script,) = PYPROJECT["project"]["scripts"]
    return script


def _image_user() -> tuple[int, int]:
    (user,) = _values(_final(), "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit(), f"USER {user!r} must be numeric uid:gid (runAsNonRoot can verify only that)"
    return int(uid), int(gid)


def test_the_dockerfile_has_a_build_and_a_final_stage_on_one_python_image() -> None:
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    assert len(_stages()) == 2
    build_image, final_image = parser.parent_images
    assert build_image == final_image, "the virtualenv is built in one stage and runs in the other"


def test_the_base_image_python_is_one_pyproject_supports() -> None:
    image = DockerfileParser(path=str(REPO / "Dockerfile")).baseimage
    match = re.fullmatch(
        r"(?:docker\.io/)?(?:library/)?python:(\d+\.\d+)(?:\.\d+)?-slim(?:-\w+)?(?:@sha256:\w+)?", image
    )
    assert match, f"base image {image!r}: expected the official python:<X.Y>-slim image"
    assert SpecifierSet(PYPROJECT["project"]["requires-python"]).contains(match.group(1))


def test_the_operator_is_installed_without_extras_and_the_final_stage_installs_nothing() -> None:
    build, final = _stages()
    install = next(value for value in _values(build, "RUN") if "pip install" in value)
    assert re.search(r"pip install \.(\s|$)", install), f"install the operator only, no extras: {install!r}"
    installers = re.compile(r"\b(pip|uv) install\b|\bapt(-get)? install\b|\bapk add\b|\bgcc\b|build-essential")
    assert [value for value in _values(final, "RUN") if installers.search(value)] == []
    assert _values(final, "COPY") == ["--from=build /opt/venv /opt/venv"]
    assert _values(final, "ADD") == []


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else() -> None:
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()]
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore should exclude everything first (.venv, .git, tests)"
    build, _ = _stages()
    for value in _values(build, "COPY"):
        *sources, _destination = value.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert f"!{source}" in rules or f"!{source}/" in rules, f".dockerignore leaves {source} out"


def test_the_entry_point_is_the_console_script_the_chart_runs(chart: helm.Chart) -> None:
    final = _final()
    (entrypoint,) = _values(final, "ENTRYPOINT")
    assert json.loads(entrypoint) == [_console_script()]
    (deployment,) = [obj for obj in render(chart) if obj["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == [_console_script()]


def test_the_default_arguments_are_ones_the_operator_accepts() -> None:
    (cmd,) = _values(_final(), "CMD")
    arguments = json.loads(cmd)
    assert arguments[0] == "run"
    result = CliRunner().invoke(main, [*arguments, "--help"])
    assert result.exit_code == 0, result.output


KIND_VALUES = {"image": {"repository": "personio-operator", "tag": "dev", "pullPolicy": "Never"}}


def test_an_image_built_and_loaded_into_kind_can_be_installed(chart: helm.Chart) -> None:
    """The README's cluster path: `docker build -t personio-operator:dev .`, `kind load docker-image ...`,
    then `helm install --set image.repository=personio-operator --set image.tag=dev --set image.pullPolicy=Never`."""
    chart.validate_schema(chart.merge_values(KIND_VALUES))
    (deployment,) = [obj for obj in render(chart, KIND_VALUES) if obj["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert (container["image"], container["imagePullPolicy"]) == ("personio-operator:dev", "Never")


def test_the_default_image_is_where_a_release_publishes_it(chart: helm.Chart) -> None:
    (deployment,) = [obj for obj in render(chart) if obj["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"ghcr.io/personio-operator/personio-operator:{chart.metadata['appVersion']}"
    assert chart.metadata["appVersion"] == PYPROJECT["project"]["version"]


def test_the_user_is_numeric_non_root_and_the_charts(chart: helm.Chart) -> None:
    uid, gid = _image_user()
    assert uid != 0 and gid != 0
    (deployment,) = [obj for obj in render(chart) if obj["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"]) == (uid, gid)
    assert pod["runAsNonRoot"] is True


def test_only_tmp_is_written_and_no_bytecode(chart: helm.Chart) -> None:
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    env = parser.envs  # the final stage's
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] == env["TMPDIR"] == "/tmp"
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert _values(_final(), "WORKDIR") == ["/tmp"]
    (deployment,) = [obj for obj in render(chart) if obj["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert [mount["mountPath"] for mount in container["volumeMounts"] if mount["name"] == "tmp"] == ["/tmp"]


# --- the console script, installed fresh, started read-only as the image's user ---------------------------


def _as_user(uid: int, gid: int) -> list[str]:
    """Prefix that runs a command as ``uid:gid`` when the tests run as root (the image never does)."""
    if os.geteuid() != 0:
        return []
    if SETPRIV is None:
        pytest.skip("running as root without util-linux setpriv: cannot drop to the image's numeric user")
    return [SETPRIV, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


def _interpreter_for(prefix: list[str]) -> str:
    """A Python of this interpreter's minor version that the image's user may run (pyenv under /root is not)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable), f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        if Path(candidate).exists():
            probe = subprocess.run([*prefix, candidate, "-c", "pass"], capture_output=True, timeout=30, check=False)
            if probe.returncode == 0:
                return candidate
    pytest.skip(f"no Python {version} that uid {_image_user()[0]} may run (tried {', '.join(candidates)})")


def _copy_build_context(destination: Path) -> None:
    """Exactly the files the Dockerfile copies, so a file `pip install .` needs but COPY forgets fails here."""
    build, _ = _stages()
    for value in _values(build, "COPY"):
        *sources, _destination = value.split()
        for source in sources:
            origin = REPO / source
            if origin.is_dir():
                shutil.copytree(origin, destination / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(origin, destination / source)


def _make_read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.fixture(scope="module")
def image_like_install() -> Iterator[dict[str, Any]]:
    """The operator installed as the image installs it (a wheel of the copied files, no extras) into a fresh
    virtualenv that is then made read-only. Its third-party dependencies come, read-only, from this test
    environment, so no download is needed."""
    uid, gid = _image_user()
    prefix = _as_user(uid, gid)
    python = _interpreter_for(prefix)
    root = Path(tempfile.mkdtemp(prefix="personio-operator-image-", dir="/tmp"))
    root.chmod(0o755)  # the image's user must reach the virtualenv below
    try:
        context, wheels, venv, home = root / "context", root / "wheels", root / "venv", root / "home"
        context.mkdir()
        _copy_build_context(context)
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run(
            [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(context)],
            check=True,
            timeout=300,
            capture_output=True,
        )
        (wheel,) = wheels.glob("*.whl")
        subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        venv_python = venv / "bin" / "python"
        subprocess.run(
            [*pip, "--python", str(venv_python), "install", "--no-deps", "--no-index", str(wheel)],
            check=True,
            timeout=300,
            capture_output=True,
        )
        site = subprocess.run(
            [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        (Path(site) / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        _make_read_only(venv)
        home.mkdir()
        if prefix:
            os.chown(home, uid, gid)
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(home),
            "TMPDIR": str(home),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C.UTF-8",
        }
        yield {"prefix": prefix, "venv": venv, "home": home, "env": env, "wheel": wheel}
    finally:
        _make_writable(root)
        shutil.rmtree(root, ignore_errors=True)


def _run(install: dict[str, Any], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*install["prefix"], *argv],
        env=install["env"],
        cwd=install["home"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("arguments", [["--help"], ["run", "--help"]], ids=["help", "run-help"])
def test_the_console_script_starts_read_only_as_the_images_user(
    image_like_install: dict[str, Any], arguments: list[str]
) -> None:
    venv: Path = image_like_install["venv"]
    script = venv / "bin" / _console_script()
    before = sorted(venv.rglob("*"))
    result = _run(image_like_install, str(script), *arguments)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    if arguments[0] == "run":
        assert "--all-namespaces" in result.stdout
    else:
        assert {"run", "trigger"} <= set(re.findall(r"^  (\w+)", result.stdout, flags=re.MULTILINE))
    assert sorted(venv.rglob("*")) == before  # nothing written into the installation


@pytest.mark.slow
def test_the_wheel_built_from_the_copied_files_is_complete(image_like_install: dict[str, Any]) -> None:
    """Every file of the package, and the README as its description (setuptools only warns if it is missing)."""
    with zipfile.ZipFile(image_like_install["wheel"]) as wheel:
        names = set(wheel.namelist())
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        description = wheel.read(metadata).decode()
    source = REPO / "operator"
    expected = {
        path.relative_to(source).as_posix()
        for path in (source / "personio_operator").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert expected - names == set()
    first_heading = next(line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("# "))
    assert first_heading in description


@pytest.mark.slow
def test_the_fresh_install_is_what_runs_not_the_source_tree(image_like_install: dict[str, Any]) -> None:
    venv: Path = image_like_install["venv"]
    result = _run(
        image_like_install,
        str(venv / "bin" / "python"),
        "-c",
        "import os, personio_operator; print(os.getuid()); print(personio_operator.__file__)",
    )
    assert result.returncode == 0, result.stderr
    uid, module = result.stdout.split()
    assert Path(module).is_relative_to(venv)
    if image_like_install["prefix"]:
        assert int(uid) == _image_user()[0]


def test_the_operators_runtime_imports_no_test_server(image_like_install: dict[str, Any]) -> None:
    """As installed in the image (no test kit): starting the operator's commands loads no test double."""
    with zipfile.ZipFile(image_like_install["wheel"]) as wheel:
        assert not [name for name in wheel.namelist() if name.startswith("personio_testkit")]
        (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
        requires = [line for line in wheel.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]
    runtime = [line for line in requires if "extra ==" not in line]  # what `pip install .` installs
    assert not [line for line in runtime if re.search(r"\b(starlette|uvicorn|scim2-server)\b", line)], runtime
    code = textwrap.dedent(
        """
        import sys
        import personio_operator.cli, personio_operator.controller.handlers, personio_operator.controller.reconciler
        test_only = ("starlette", "uvicorn", "scim2_server")
        ours = ("personio_testkit.personio_sandbox", "personio_testkit.scim_app")
        print(sorted(m for m in sys.modules if m.split(".")[0] in test_only or m.startswith(ours)))
        """
    )
    result = _run(image_like_install, str(image_like_install["venv"] / "bin" / "python"), "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
