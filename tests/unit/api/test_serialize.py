"""Documents as JSON: jsonable's plain-type fast path answers as its general path does."""

import json
import math
from datetime import UTC, date, datetime

from bson import SON, Int64, ObjectId

from api.serialize import jsonable


def test_documents_become_json_at_every_depth() -> None:
    oid = ObjectId()
    doc = {
        "_id": oid, "id": "vm1", "n": 3, "big": Int64(2**40), "ok": True, "none": None, "ratio": 0.5,
        "nan": math.nan, "raw": b"\x00", "seen": datetime(2026, 12, 3, 7, 0), "day": date(2026, 12, 3),
        "ref": oid, 7: "seven", "tags": ("a", "b"), "set": {1},
        "nested": [{"_id": 1, "at": datetime(2026, 1, 1, tzinfo=UTC), "deep": [[{"_id": 2, "x": math.inf}]]}],
        "son": SON([("_id", 5), ("k", "v")]),
    }
    out = jsonable(doc)
    assert out == {
        "id": "vm1", "n": 3, "big": 2**40, "ok": True, "none": None, "ratio": 0.5, "nan": None, "raw": None,
        "seen": "2026-12-03T07:00:00+00:00", "day": "2026-12-03", "ref": str(oid), "7": "seven",
        "tags": ["a", "b"], "set": [1],
        "nested": [{"at": "2026-01-01T00:00:00+00:00", "deep": [[{"x": None}]]}],
        "son": {"k": "v"},
    }
    assert out["ok"] is True and type(out["n"]) is int
    json.dumps(out, allow_nan=False)  # nothing left that JSON cannot carry
