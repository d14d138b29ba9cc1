"""Settings, the database engine and the data planflow ships (counterparts, holidays, indicators)."""

from planflow.config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
