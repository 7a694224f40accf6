"""Who is asking, for the requester ``personio-operator trigger`` writes into a run/test annotation.

The API server itself answers a SelfSubjectReview (``authentication.k8s.io/v1``, GA since Kubernetes
1.28): the username it authenticated the caller as, whatever the kubeconfig entry is called. Every
authenticated user may create one (the built-in ``system:basic-user`` ClusterRole). Only an API server
without that API (HTTP 404) leaves us with the kubeconfig's user entry name, and the caller is told.

The annotation stays a claim: anyone allowed to annotate the integration can write any name into it.
The API server's audit log is the authority on who really changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

REVIEW_TIMEOUT_SECONDS = (10.0, 30.0)  # connect, read


class IdentityError(Exception):
    """The API server would not say who the caller is; the message says what to do."""


class RequesterSource(StrEnum):
    REVIEW = "the API server's SelfSubjectReview"
    KUBECONFIG = "the kubeconfig user entry"
    OPTION = "--as-user"


@dataclass(frozen=True)
class Requester:
    name: str
    source: RequesterSource


def review_username(api_client: Any = None) -> str | None:
    """The caller's username as the API server authenticated it, or None if the server has no
    SelfSubjectReview API (HTTP 404: Kubernetes before 1.28, or the API switched off).

    ``api_client``: a ``kubernetes.client.ApiClient`` (default: the one ``load_kube_config`` set up).
    Raises IdentityError for any other failure."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    body = client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview")
    try:
        review = client.AuthenticationV1Api(api_client).create_self_subject_review(
            body, _request_timeout=REVIEW_TIMEOUT_SECONDS
        )
    except ApiException as err:
        if err.status == 404:
            return None
        if err.status == 401:
            raise IdentityError(
                "the Kubernetes API server did not accept the kubeconfig's credentials (HTTP 401)"
            ) from None
        if err.status == 403:
            raise IdentityError(
                "the Kubernetes API server does not let you ask who you are (HTTP 403 on creating a "
                "selfsubjectreviews.authentication.k8s.io; normally every authenticated user may, through the "
                "system:basic-user ClusterRole): ask your cluster admin to grant it, or pass --as-user NAME"
            ) from None
        raise IdentityError(f"asking the Kubernetes API server who you are failed (HTTP {err.status})") from None
    except (HTTPError, OSError) as err:
        raise IdentityError(f"cannot reach the Kubernetes API server ({type(err).__name__})") from None
    status = getattr(review, "status", None)
    user_info = getattr(status, "user_info", None)
    username = getattr(user_info, "username", None)
    if not isinstance(username, str) or not username.strip():
        raise IdentityError("the Kubernetes API server's SelfSubjectReview named no user; pass --as-user NAME")
    return username.strip()


def resolve_requester(as_user: str | None, kubeconfig_user: str | None, api_client: Any = None) -> Requester:
    """``--as-user`` if given (no request is made); else the reviewed username; else, on an API server
    without SelfSubjectReview, the kubeconfig's user entry name."""
    if as_user:
        return Requester(as_user, RequesterSource.OPTION)
    username = review_username(api_client)
    if username is not None:
        return Requester(username, RequesterSource.REVIEW)
    return Requester(kubeconfig_user or "unknown", RequesterSource.KUBECONFIG)
