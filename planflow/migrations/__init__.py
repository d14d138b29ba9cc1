"""The database's history as Alembic migrations; `planflow.config.db.create_schema` runs them."""
