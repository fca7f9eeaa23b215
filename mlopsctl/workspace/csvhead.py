"""A cheap look at a CSV's header row before a CSV parser is let loose on the whole file.

pandas builds one column object per header field: a first row of millions of fields (a 4 MB
file of commas) takes minutes and gigabytes before any check can run. The header is read alone,
bounded in bytes, and its fields counted; a file past the bounds is a located error at once.
"""

from __future__ import annotations

import csv
from pathlib import Path

from mlopsctl.errors import MlopsError

MAX_COLUMNS = 10_000
"""More columns than any model here uses; a wider file is almost certainly not the intended one."""
MAX_HEADER_BYTES = 4 * 1024 * 1024


def check_header(path: Path, shown: str, used_by: str = "") -> None:
    """Refuse (MlopsError at ``shown``:1) a file whose header row is past the bounds."""
    by = f" (the data of {used_by})" if used_by else ""
    try:
        with open(path, "rb") as f:
            head = f.readline(MAX_HEADER_BYTES + 1)
    except OSError as e:
        raise MlopsError(f"{shown}: cannot read{by}: {e.strerror or e}") from None
    if len(head) > MAX_HEADER_BYTES:
        raise MlopsError(
            f"{shown}:1: the header row is longer than {MAX_HEADER_BYTES // (1024 * 1024)} MB{by}; "
            "expected a CSV whose first line names the columns"
        )
    text = head.decode("utf-8", errors="replace").rstrip("\r\n")
    # A comma count bounds the field count from above without parsing; parse only past it.
    if text.count(",") + 1 > MAX_COLUMNS:
        try:
            fields = len(next(csv.reader([text]), []))
        except csv.Error as e:
            raise MlopsError(f"{shown}:1: the header row is not CSV{by}: {e}") from None
        if fields > MAX_COLUMNS:
            raise MlopsError(
                f"{shown}:1: the header row has {fields:,} fields; at most {MAX_COLUMNS:,} columns are read{by}"
            )
