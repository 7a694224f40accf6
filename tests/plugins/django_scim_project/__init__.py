"""A minimal Django project serving django-scim2-server, run in its own process by the
``django_scim_server`` fixture (``tests/plugins/django_scim_server.py``).

Configured by environment variables so that one checked-in project can serve any test run:
``SCIM_TEST_DATABASE`` (sqlite file) and ``SCIM_TEST_TOKEN`` (the bearer token it accepts).
Everything under ``/scim/v2/`` is the unmodified package; ``/testing/`` is the harness's own
door (reset, request log), guarded by the same token.
"""
