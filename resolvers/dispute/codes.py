"""The one format of a dispute's case number (案件编号), for the seed and for every report alike."""

from __future__ import annotations

import re

# MD + the year reported + the dispute's ID in six digits (more once past 999,999): MD2026000004.
PATTERN = re.compile(r"MD\d{4}\d{6,}")


def dispute_code(year: int, dispute_id: int) -> str:
    return f"MD{year:04d}{dispute_id:06d}"
