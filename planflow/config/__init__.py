"""Settings, the database engine and the data planflow ships (counterparts, holidays, …)."""

from planflow.config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
