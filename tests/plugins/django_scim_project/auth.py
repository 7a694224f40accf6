"""Bearer-token access for the SCIM views (the package's ``SCIM2_SERVER_AUTH_CHECK`` hook)."""

import hmac

from django.conf import settings
from django.http import HttpRequest


def has_bearer_token(request: HttpRequest) -> bool:
    expected = f"Bearer {settings.SCIM_TEST_TOKEN}".encode()
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, expected)
