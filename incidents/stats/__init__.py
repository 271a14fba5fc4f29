"""Statistics: aggregation, dark-figure estimators, disclosure control, exports.

``pd`` is pandas, imported on first use: it is 50 MB of every worker's memory, and most workers
of a busy service never compute statistics (docs/performance.md, memory). The modules of this
package use it as ``from incidents.stats import pd``.
"""

from __future__ import annotations

import importlib
from typing import Any


class _Pandas:
    """pandas, imported when an attribute is first asked for."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("pandas"), name)


pd: Any = _Pandas()
