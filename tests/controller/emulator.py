"""KMock's Kubernetes emulator plus the API-server behaviour the operator relies on and KMock lacks
(operator-conventions.md §1.13.2): resourceVersion and generation bumps, generateName, the status
subresource split, 422 for a failed JSON-patch ``test`` op, and equality label selectors
(``labelSelector=key=value,...``) on lists and watches. Pinned to kmock 0.8 (private hooks)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import jsonpatch
import kmock


class RealisticEmulator(kmock.KubernetesEmulator):
    async def _handle(self, request: Any) -> Any:
        data = request.data
        if request.resource is not None and request.action in (kmock.action.CREATE, kmock.action.UPDATE):
            if not hasattr(self, "_rv"):
                object.__setattr__(self, "_rv", itertools.count(100))
            rv = str(next(self._rv))
            key = (request.resource, request.namespace, request.name)
            if request.action == kmock.action.CREATE and isinstance(data, dict):
                meta = data.setdefault("metadata", {})
                if not meta.get("name") and meta.get("generateName"):
                    meta["name"] = meta["generateName"] + uuid.uuid4().hex[:6]
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
                meta.setdefault("generation", 1)
                meta["resourceVersion"] = rv
            elif isinstance(data, dict):  # merge patch
                if request.subresource == "status":
                    for field in [k for k in data if k != "status"]:
                        del data[field]
                else:
                    data.pop("status", None)
                data.setdefault("metadata", {})["resourceVersion"] = rv
                if "spec" in data and key in self.objects and not self.objects[key].deleted:
                    generation = self.objects[key].get("metadata", {}).get("generation", 0)
                    data["metadata"]["generation"] = generation + 1
            elif isinstance(data, list):  # JSON patch
                data.append({"op": "add", "path": "/metadata/resourceVersion", "value": rv})
        try:
            return await super()._handle(request)
        except jsonpatch.JsonPatchTestFailed as err:
            raise kmock.KubernetesError(status=422, reason="Invalid", message=str(err)) from None

    async def _serve_list(self, request: Any) -> Any:
        listed = await super()._serve_list(request)
        wanted = _selector(request)
        if wanted:
            listed["items"] = [item for item in listed["items"] if _selected(item, wanted)]
        return listed

    async def _serve_watch(self, request: Any) -> Any:
        wanted = _selector(request)
        async for event in super()._serve_watch(request):
            if wanted and isinstance(event, dict) and not _selected(event.get("object") or {}, wanted):
                continue
            yield event


def _selector(request: Any) -> dict[str, str]:
    """``key=value`` terms of the request's labelSelector (the only form the tests use)."""
    terms = [term.strip() for term in (request.params.get("labelSelector") or "").split(",") if term.strip()]
    return dict(term.split("=", 1) for term in terms)


def _selected(obj: dict[str, Any], wanted: dict[str, str]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(labels.get(key) == value for key, value in wanted.items())
