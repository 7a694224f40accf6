"""Entry point of the server process: ``python -m tests.plugins.django_scim_project.serve FD``.

Creates the schema in the (new) sqlite file, then serves the project with uvicorn (ASGI) on the
already listening socket ``FD`` handed over by the parent, so the port is known before start-up.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.plugins.django_scim_project.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    import uvicorn
    from django.core.asgi import get_asgi_application

    uvicorn.run(get_asgi_application(), fd=int(sys.argv[1]), log_level="warning", lifespan="off", access_log=False)


if __name__ == "__main__":
    main()
