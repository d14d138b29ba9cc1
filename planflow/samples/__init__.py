"""Three real plans (Hà Nội 2020 and 2025 draft, Hà Đông 2024) used by the demo and tests."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

HANOI_2020 = "hanoi-2020-37-KH-UBND.txt"
HANOI_2025_DRAFT = "hanoi-2025-KH-UBND-draft.txt"
HADONG_2024 = "hadong-2024-70-KH-UBND.txt"


def sample_path(name: str) -> Path:
    """The path of a shipped sample plan text."""
    return Path(str(resources.files("planflow.samples").joinpath(name)))
