"""``personio-operator run`` (the operator) and ``personio-operator trigger run|test`` (manual triggers)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

import click

from personio_operator.api import GROUP, KIND, PLURAL, VERSION
from personio_operator.controller.identity import IdentityError, RequesterSource, resolve_requester
from personio_operator.controller.settings import OperatorSettings
from personio_operator.controller.triggers import RUN_REQUEST_ANNOTATION, TEST_REQUEST_ANNOTATION, format_request
from personio_operator.redaction import install_log_redaction

_API_TIMEOUT_SECONDS = (10.0, 30.0)  # connect, read


class _DropRoutineEvents(logging.Filter):
    """kopf logs every watch event it hands over at INFO; that would drown the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Handler 'observe' succeeded")


@click.command("run")
@click.option("-n", "--namespace", "namespaces", multiple=True, help="Watch this namespace (repeatable).")
@click.option("-A", "--all-namespaces", is_flag=True, help="Watch all namespaces (the default without -n).")
@click.option("--standalone/--peering", default=True, show_default=True, help="Run without kopf peering.")
@click.option("--liveness", "liveness_endpoint", metavar="URL", help="e.g. http://0.0.0.0:8080/healthz")
@click.option("--log-format", type=click.Choice(["plain", "full", "json"]), default="full", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="More logs.")
@click.option("--debug", is_flag=True, help="Debug logs (never secrets).")
def run_command(
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    standalone: bool,
    liveness_endpoint: str | None,
    log_format: str,
    verbose: bool,
    debug: bool,
) -> None:
    """Run the operator against the current kubeconfig (or the in-cluster service account).

    Settings come from PERSONIO_OPERATOR_* environment variables (SMTP, concurrency, metrics port,
    namespaces); -n / -A override PERSONIO_OPERATOR_NAMESPACES.
    """
    import kopf

    from personio_operator.controller.handlers import run_operator
    from personio_operator.controller.reconciler import Reconciler

    if namespaces and all_namespaces:
        raise click.UsageError("use either --namespace or --all-namespaces, not both")
    try:
        settings = OperatorSettings.from_env(os.environ)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    if not namespaces and not all_namespaces:
        namespaces = settings.namespaces
    install_log_redaction()  # logs at every level, tracebacks included, whatever handler kopf configures
    kopf.configure(verbose=verbose, debug=debug, log_format=kopf.LogFormat[log_format.upper()])
    logging.getLogger("kopf.objects").addFilter(_DropRoutineEvents())
    if not debug:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    reconciler = Reconciler(settings)
    asyncio.run(
        run_operator(
            reconciler,
            namespaces=namespaces,
            clusterwide=not namespaces,
            standalone=standalone,
            liveness_endpoint=liveness_endpoint,
        )
    )


@click.group("trigger")
def trigger_group() -> None:
    """Ask the operator to run an integration now, or to test it (plan only, no writes)."""


def _trigger_options(fn: Any) -> Any:
    fn = click.argument("name")(fn)
    fn = click.option("-n", "--namespace", help="Namespace (default: the kubeconfig context's).")(fn)
    fn = click.option(
        "--as-user",
        help="Record this person as the requester (default: who the API server says you are).",
    )(fn)
    fn = click.option("--kubeconfig", type=click.Path(dir_okay=False), help="Kubeconfig file.")(fn)
    fn = click.option("--context", help="Kubeconfig context.")(fn)
    fn = click.option(
        "--wait/--no-wait", default=False, help="Wait for the outcome; exit 1 if it failed or was ignored."
    )(fn)
    fn = click.option("--timeout", type=float, default=600, show_default=True, help="Seconds to --wait.")(fn)
    return fn


@trigger_group.command("run")
@_trigger_options
def trigger_run(**options: Any) -> None:
    """Run NAME now (also while it is paused after a failure)."""
    _trigger(RUN_REQUEST_ANNOTATION, "lastHandledRunRequest", **options)


@trigger_group.command("test")
@_trigger_options
def trigger_test(**options: Any) -> None:
    """Test NAME: read Personio and the app, plan, write nothing; the result goes to status.lastTest."""
    _trigger(TEST_REQUEST_ANNOTATION, "lastHandledTestRequest", **options)


def _trigger(
    annotation: str,
    handled_field: str,
    *,
    name: str,
    namespace: str | None,
    as_user: str | None,
    kubeconfig: str | None,
    context: str | None,
    wait: bool,
    timeout: float,
) -> None:
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException

    try:
        config.load_kube_config(config_file=kubeconfig, context=context)
        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
    except (ConfigException, OSError) as err:
        raise click.ClickException(f"cannot load the kubeconfig: {err}") from None
    if context:
        active = next((c for c in contexts if c["name"] == context), active)
    kube_context = (active or {}).get("context", {})
    namespace = namespace or kube_context.get("namespace") or "default"
    try:
        requester = resolve_requester(as_user, kube_context.get("user"))
    except IdentityError as err:
        raise click.ClickException(str(err)) from None
    if requester.source is RequesterSource.KUBECONFIG:
        click.echo(
            "Warning: this Kubernetes API server has no SelfSubjectReview API (authentication.k8s.io/v1, "
            f"Kubernetes 1.28+), so the requester recorded is {requester.name!r}, the kubeconfig's user entry, "
            "which the API server has not confirmed.",
            err=True,
        )
    value = format_request(datetime.now(UTC), requester.name)

    api = client.CustomObjectsApi()
    patch = {"metadata": {"annotations": {annotation: value}}}
    try:
        api.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, patch, _request_timeout=_API_TIMEOUT_SECONDS
        )
    except ApiException as err:
        if err.status == 404:
            raise click.ClickException(f"{KIND} {name!r} not found in namespace {namespace!r}") from None
        if err.status in (401, 403):
            raise click.ClickException(
                f"not allowed to annotate {KIND} {name!r} in namespace {namespace!r} (HTTP {err.status})"
            ) from None
        raise click.ClickException(f"the Kubernetes API refused the request (HTTP {err.status})") from None
    click.echo(f"Requested: {annotation}={value} on {namespace}/{name} (requester from {requester.source})")
    if wait:
        status = _wait_until_handled(api, namespace, name, handled_field, value, timeout)
        outcome, ok = _describe_outcome(annotation, status)
        click.echo(outcome)
        if not ok:
            raise click.exceptions.Exit(1)


def _wait_until_handled(
    api: Any, namespace: str, name: str, handled_field: str, value: str, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj = api.get_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, _request_timeout=_API_TIMEOUT_SECONDS
        )
        status = obj.get("status") or {}
        if status.get(handled_field) == value and not status.get("currentRun"):
            return status
        time.sleep(1)
    raise click.ClickException(f"the operator did not handle the request within {timeout:.0f} s; is it running?")


def _describe_outcome(annotation: str, status: dict[str, Any]) -> tuple[str, bool]:
    """What became of a handled request, and whether it went well (``--wait`` exits 1 if not)."""
    if annotation == TEST_REQUEST_ANNOTATION:
        test = status.get("lastTest") or {}
        detail = f": {test['error']}" if test.get("error") else ""
        return f"Test {test.get('result', 'unknown')}{detail}", test.get("result") == "Passed"
    if status.get("phase") == "Inactive":
        return "Run request ignored: spec.active is false (set it to true to run)", False
    if status.get("phase") == "Invalid":
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        return f"Run request ignored: {ready.get('message', 'the spec is invalid')}", False
    entry = (status.get("history") or [{}])[0]
    detail = f": {entry['error']}" if entry.get("error") else ""
    return f"Run {entry.get('id', '?')} {entry.get('result', 'unknown')}{detail}", entry.get("result") == "Succeeded"


def register(group: click.Group) -> None:
    """Add this area's subcommands to the ``personio-operator`` group."""
    group.add_command(run_command)
    group.add_command(trigger_group)
