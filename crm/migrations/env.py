"""Alembic environment: migrations run on the engine handed over by `crm.db.migrate`."""

from alembic import context

from crm.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # invoked through the alembic CLI
        from crm.db import create_db_engine
        from crm.settings import load_settings

        engine = create_db_engine(load_settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `python -m crm migrate`.")
run_migrations_online()
