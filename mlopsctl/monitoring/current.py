"""The current rows to check: a data file, or the requests an environment's container captured.

Files: CSV (types inferred; values that do not fit the contract's type count as out of contract
later, not as a crash), JSON lines (plain rows, or capture records with their predictions) and
Parquet. Captures: the JSON lines under ``.mlopsctl/capture/<model>/<env>/``, oldest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.monitoring.capture import FILES

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Current:
    frame: pd.DataFrame
    source: str
    predictions: list[Any] | None = None
    """Predictions recorded with the rows (captures); None when the model must predict them."""
    versions: dict[str, int] | None = None
    """Captured rows per serving version (a capture may span a rollout)."""
    last_version: int | None = None
    """The version that answered the newest captured request."""


def capture_dir(root: Path, model: str, env: str) -> Path:
    """Where the deployment of ``model`` in ``env`` writes its capture (mounted into the container)."""
    return Path(root) / ".mlopsctl" / "capture" / model / env


def read_file(path: Path, shown: str | None = None) -> Current:
    import pandas as pd

    shown = shown or str(path)
    if not path.is_file():
        raise MlopsError(f"data file {shown} does not exist")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson", ".jsonl.gz"):
            return _from_records(_read_lines([path]), shown)
        if suffix == ".parquet":
            return Current(pd.read_parquet(path), shown)
        from mlopsctl.workspace.csvhead import check_header

        if not suffix.endswith(".gz"):  # a gzipped CSV is read by pandas alone
            check_header(path, shown)
        frame = pd.read_csv(path, skipinitialspace=True, low_memory=False)
    except MlopsError:
        raise
    except pd.errors.EmptyDataError:
        raise MlopsError(f"data file {shown} is empty; expected a CSV with a header row") from None
    except ImportError as e:
        raise MlopsError(f"cannot read {shown}: {e}") from None
    except (ValueError, UnicodeDecodeError, OSError) as e:
        raise MlopsError(f"data file {shown} is not readable: {e}") from None
    if frame.empty:
        raise MlopsError(f"data file {shown} has no rows")
    return Current(frame, shown)


def read_capture(directory: Path, shown: str) -> Current:
    paths = [directory / name for name in FILES if (directory / name).is_file()]
    if not paths:
        raise MlopsError(
            f"no captured requests in {shown}: the deployment writes them there once it serves with "
            "monitor.capture enabled (the default) and receives requests; or pass --data FILE"
        )
    cur = _from_records(_read_lines(paths), shown)
    if cur.frame.empty:
        raise MlopsError(f"the capture in {shown} holds no rows yet")
    return cur


def _read_lines(paths: list[Path]) -> list[dict[str, Any]]:
    import gzip

    records: list[dict[str, Any]] = []
    for path in paths:
        opener: Any = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    # The last line of a log being written may be cut short; anything else is not ours.
                    if not line.endswith("\n"):
                        continue
                    raise MlopsError(f"{path}:{n}: not a JSON object per line") from None
                if isinstance(rec, dict):
                    records.append(rec)
    return records


def _from_records(records: list[dict[str, Any]], shown: str) -> Current:
    import pandas as pd

    if records and all(isinstance(r.get("features"), dict) for r in records):
        frame = pd.DataFrame.from_records([r["features"] for r in records])
        preds = [r.get("prediction") for r in records]
        versions: dict[str, int] = {}
        for r in records:
            versions[str(r.get("version"))] = versions.get(str(r.get("version")), 0) + 1
        last = records[-1].get("version")
        return Current(frame, shown, predictions=preds if any(p is not None for p in preds) else None,
                       versions=versions, last_version=last if isinstance(last, int) else None)
    if not records:
        raise MlopsError(f"{shown} holds no rows")
    return Current(pd.DataFrame.from_records(records), shown)


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def fetch(root: Path, value: str, dest_dir: Path) -> Path:
    """A local file for ``monitor.retrain.data``: a repository path, or an http(s) URL downloaded
    into ``dest_dir`` (the file name is kept, so the format is still known by its suffix)."""
    if not is_url(value):
        return Path(root) / value
    import urllib.error
    import urllib.parse
    import urllib.request

    name = Path(urllib.parse.urlparse(value).path).name or "data.csv"
    target = Path(dest_dir) / name
    try:
        with urllib.request.urlopen(value, timeout=60) as resp, open(target, "wb") as f:
            while chunk := resp.read(1 << 20):
                f.write(chunk)
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        from mlopsctl.errors import UnavailableError

        raise UnavailableError(f"cannot download the newer data from {value}: {getattr(e, 'reason', e)}") from None
    return target
