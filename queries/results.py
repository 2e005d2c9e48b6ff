"""What every analysis result shares: plain data for the API, a DataFrame for notebooks."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd


class Tabular:
    """Mixin for result dataclasses: `rows()` is the table a user reads; `to_dict()` is the whole result."""

    def rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = dataclasses.asdict(self)  # type: ignore[call-overload]
        return fields

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows())
