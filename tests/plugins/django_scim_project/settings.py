"""Django settings: sqlite in the test's tmp dir, the SCIM app, bearer-token access, production-like errors."""

import os

SECRET_KEY = "django-scim-test-server-not-secret"
DEBUG = False  # errors look as they would in production: a bare HTML "Server Error (500)"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django_scim2_server",
]
MIDDLEWARE = ["tests.plugins.django_scim_project.recorder.RequestRecorder"]
ROOT_URLCONF = "tests.plugins.django_scim_project.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["SCIM_TEST_DATABASE"],
        # Each ASGI request runs in its own thread: concurrent writers must queue for the lock instead of
        # failing with "database is locked" (a deferred transaction cannot wait to upgrade its lock).
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The package delegates access control to a callable ``(request) -> bool``; ours checks a bearer token.
SCIM2_SERVER_AUTH_CHECK = "tests.plugins.django_scim_project.auth.has_bearer_token"
SCIM_TEST_TOKEN = os.environ["SCIM_TEST_TOKEN"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
