"""planflow: a workflow engine for Vietnamese government plans (Kế hoạch)."""

__version__ = "0.1.0"
