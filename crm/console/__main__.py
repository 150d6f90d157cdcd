"""`python -m crm.console`: serve the CRM console (started by `make run`)."""

from __future__ import annotations

import logging
import sys

from crm.console.app import create_app
from crm.db import create_db_engine, make_session_factory, session_scope
from crm.privacy import install_log_masking
from crm.services.staff import ensure_first_supervisor
from crm.settings import ConfigError, load_settings


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    install_log_masking()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    factory = make_session_factory(create_db_engine(settings.database_url))
    with session_scope(factory) as db:
        created = ensure_first_supervisor(db, settings.console_admin_username, settings.console_admin_password)
        if created is not None:
            logging.getLogger("crm.console").info("created the first supervisor %r from settings", created.username)
    app = create_app(settings, factory=factory)
    app.run(host=settings.host, port=settings.console_port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
