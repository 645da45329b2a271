"""Fixtures of the report and view tests; the helpers themselves are in ``report_support``."""

from __future__ import annotations

import sys
from pathlib import Path

# Make ``import report_support`` work whatever pytest's import mode (this folder is no package).
sys.path.insert(0, str(Path(__file__).resolve().parent))
