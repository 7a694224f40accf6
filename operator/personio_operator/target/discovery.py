"""What a SCIM server says it supports (RFC 7643 §5, ``/ServiceProviderConfig``) and the
behaviour that follows from it.

A server that has no ServiceProviderConfig, or one we cannot read, gets conservative defaults:
PATCH and filters assumed (nearly every real target has them; both have fallbacks when a request
is refused), no bulk, no ETags, pages of at most 100.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from scim2_models import Context, ServiceProviderConfig

from personio_operator.target.payloads import LENIENT_POLICY

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class ScimFeatures(BaseModel):
    """The subset of the ServiceProviderConfig that changes how the client talks to the server."""

    model_config = ConfigDict(frozen=True)

    discovered: bool = False  # False: defaults, the server had no readable ServiceProviderConfig
    patch: bool = True
    bulk: bool = False
    bulk_max_operations: int | None = None
    bulk_max_payload_size: int | None = None
    filter: bool = True
    max_results: int | None = None
    etag: bool = False
    sort: bool = False

    @property
    def page_size(self) -> int:
        """How many resources to ask for per list request."""
        if self.max_results is None or self.max_results <= 0:
            return DEFAULT_PAGE_SIZE if not self.discovered else MAX_PAGE_SIZE
        return min(self.max_results, MAX_PAGE_SIZE)


def features_from_config(payload: Any) -> ScimFeatures:
    """Read a ServiceProviderConfig payload leniently; fall back to defaults if it is unusable."""
    if not isinstance(payload, dict):
        log.warning("ServiceProviderConfig is not a JSON object; using conservative defaults")
        return ScimFeatures()
    try:
        config = ServiceProviderConfig.model_validate(
            payload, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=LENIENT_POLICY
        )
    except ValidationError as error:
        log.warning("ServiceProviderConfig could not be read (%s errors); using defaults", error.error_count())
        return ScimFeatures()
    return ScimFeatures(
        discovered=True,
        patch=_supported(config.patch, default=True),
        bulk=_supported(config.bulk, default=False),
        bulk_max_operations=getattr(config.bulk, "max_operations", None),
        bulk_max_payload_size=getattr(config.bulk, "max_payload_size", None),
        filter=_supported(config.filter, default=True),
        max_results=getattr(config.filter, "max_results", None),
        etag=_supported(config.etag, default=False),
        sort=_supported(config.sort, default=False),
    )


def _supported(section: Any, *, default: bool) -> bool:
    value = getattr(section, "supported", None)
    return default if value is None else bool(value)
