"""The units' portal: a small server-rendered web app where the units a plan assigns work to
acknowledge, submit figures and documents, and see returns, through signed links (no accounts).

``create_app()`` builds the FastAPI app; ``planflow portal`` serves it with uvicorn.
"""

from planflow.portal.app import create_app

__all__ = ["create_app"]
