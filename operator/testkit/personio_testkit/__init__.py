"""Test doubles for personio-operator: the Personio sandbox (``personio_sandbox``), the SCIM test app
(``scim_app``) and the local demo. Installed for ``make demo``, ``make test`` and ``bench/``; never
part of the operator's image."""
