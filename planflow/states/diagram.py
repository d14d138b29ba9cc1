"""Mermaid state diagrams drawn from the same tables the machines are built from."""

from __future__ import annotations

from planflow.states.tables import MOVES


def mermaid(entity: str) -> str:
    """A ``stateDiagram-v2`` of one lifecycle, one arrow per (source, trigger)."""
    lines = ["stateDiagram-v2", "    [*] --> drafted"]
    for move in MOVES[entity]:
        guard = f" [{', '.join(move.guards)}]" if move.guards else ""
        for source in move.sources:
            lines.append(f"    {source} --> {move.dest} : {move.trigger}{guard}")
    lines += ["    aggregated --> [*]", "    cancelled --> [*]"]
    return "\n".join(lines)
