"""Per-source fetch state (``state.json`` beside the source's packs): validators for the next
conditional request, when it was last checked and last succeeded, and why it last failed."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from fim.core import statefiles

STATE = "state.json"


@dataclass(frozen=True)
class SourceState:
    url: str = ""
    etag: str = ""
    last_modified: str = ""
    last_check: float = 0.0
    last_success: float = 0.0
    last_error: str = ""
    failing_since: float = 0.0  # 0 while the last check succeeded
    signer: str = ""  # fingerprint of the key that signed the installed pack

    @classmethod
    def read(cls, directory: Path) -> SourceState:
        try:
            doc = json.loads((directory / STATE).read_text())
        except (OSError, ValueError):
            return cls()
        if not isinstance(doc, dict):
            return cls()
        values = {}
        for f in dataclasses.fields(cls):
            value = doc.get(f.name)
            if isinstance(value, str) and f.type == "str":
                values[f.name] = value
            elif isinstance(value, int | float) and not isinstance(value, bool) and f.type == "float":
                values[f.name] = float(value)
        return cls(**values)

    def write(self, directory: Path) -> None:
        statefiles.write_private(directory / STATE, json.dumps(dataclasses.asdict(self), indent=1).encode())
