"""SelfSubjectReviews on KMock, answered as a real API server answers them.

A real API server fills in a review from the request's credentials and stores nothing; KMock's emulator
would store it as an object (and refuse a second review with 409). ``ReviewingEmulator`` hands reviews
to the test's reactions only: ``answer_reviews`` (a server that knows its tokens) or ``no_review_api``
(a server older than 1.28, or with the API switched off: 404 like any unknown resource)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kmock

from tests.controller.emulator import RealisticEmulator

REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


class ReviewingEmulator(RealisticEmulator):
    async def _handle(self, request: Any) -> Any:
        if request.resource is not None and request.resource.plural == "selfsubjectreviews":
            return await kmock.RawHandler._handle(self, request)
        return await super()._handle(request)


def answer_reviews(cluster: kmock.KubernetesEmulator, usernames: Mapping[str, str]) -> None:
    """Answer each review with the username its bearer token belongs to (``usernames``: token -> name);
    a request with an unknown token or none gets 401, as from a real API server."""

    def review(request: kmock.Request) -> dict[str, Any]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in usernames:
            raise kmock.KubernetesError(status=401, reason="Unauthorized", message="Unauthorized")
        assert request.data.get("kind") == "SelfSubjectReview", request.data
        return {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "SelfSubjectReview",
            "metadata": {"creationTimestamp": None},
            "status": {"userInfo": {"username": usernames[token], "groups": ["system:authenticated"]}},
        }

    cluster["post", REVIEWS] << review


def refuse_reviews(cluster: kmock.KubernetesEmulator, status: int) -> None:
    """An API server that has the review API but refuses it (e.g. 403 without system:basic-user)."""
    cluster["post", REVIEWS] << kmock.KubernetesError(status=status, reason="Forbidden", message="forbidden")


def no_review_api(cluster: kmock.KubernetesEmulator) -> None:
    """An API server without SelfSubjectReview (before Kubernetes 1.28): 404 for the path."""
    cluster["post", REVIEWS] << kmock.KubernetesEndpointNotFoundError


def review_requests(cluster: kmock.KubernetesEmulator) -> list[kmock.Request]:
    return list(cluster["post", REVIEWS])
