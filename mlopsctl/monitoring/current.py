"""The current rows to check: a data file, or the requests an environment's container captured.

Files: CSV, JSON lines (plain rows, or capture records with their predictions) and Parquet.
Captures: the JSON lines under ``.mlopsctl/capture/<model>/<env>/``, oldest first.

A CSV is read in chunks of :data:`CHUNK_ROWS` rows, only the feature columns, each predicted and
counted before the next is read, so a file of any size costs memory for one chunk (reading one
chunk ahead on a thread was measured slower on a loaded two-core machine: the contention for the
GIL cost more CPU than the overlap saved). Numeric features are typed by inference (a value that
is no number counts as out of contract later, not as a crash); categorical and bool features are
read as text, as training reads them, so "01" stays "01" and a category of digits reaches the
model as the strings it was fitted on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.errors import MlopsError
from mlopsctl.monitoring.capture import FILES

if TYPE_CHECKING:
    import pandas as pd


CHUNK_ROWS = 100_000


@dataclass
class Current:
    frame: pd.DataFrame | None
    """All rows at once; None for a CSV, whose rows come from :attr:`chunks`."""
    source: str
    predictions: list[Any] | None = None
    """Predictions recorded with the rows (captures); None when the model must predict them."""
    versions: dict[str, int] | None = None
    """Captured rows per serving version (a capture may span a rollout)."""
    last_version: int | None = None
    """The version that answered the newest captured request."""
    chunks: Callable[[], Iterator[pd.DataFrame]] | None = None
    """The rows chunk by chunk (a CSV, read as it is consumed)."""

    def pieces(self) -> Iterator[tuple[pd.DataFrame, list[Any] | None]]:
        """The rows in pieces, each with its recorded predictions (None when there are none)."""
        if self.chunks is not None:
            for chunk in self.chunks():
                yield chunk, None
        elif self.frame is not None:
            yield self.frame, self.predictions


def capture_dir(root: Path, model: str, env: str) -> Path:
    """Where the deployment of ``model`` in ``env`` writes its capture (mounted into the container)."""
    return Path(root) / ".mlopsctl" / "capture" / model / env


def read_file(path: Path, shown: str | None = None, features: dict[str, dict[str, Any]] | None = None) -> Current:
    """The rows of a data file. A CSV's header is checked at once against ``features`` (the
    spec's; None reads every column unchecked); its rows are read as :meth:`Current.pieces` is
    consumed, only the features' columns, text ones as text."""
    import pandas as pd

    shown = shown or str(path)
    if not path.is_file():
        raise MlopsError(f"data file {shown} does not exist")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson", ".jsonl.gz"):
            return _from_records(_read_lines([path]), shown)
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
            if frame.empty:
                raise MlopsError(f"data file {shown} has no rows")
            return Current(frame, shown)
        from mlopsctl.workspace.csvhead import check_header

        if not suffix.endswith(".gz"):  # a gzipped CSV is read by pandas alone
            check_header(path, shown)
        columns = [str(c) for c in pd.read_csv(path, nrows=0, skipinitialspace=True).columns]
    except MlopsError:
        raise
    except Exception as e:  # noqa: BLE001 - any unreadable file is reported, not a crash
        raise _unreadable(e, shown) from None
    if not features:
        return Current(None, shown, chunks=lambda: _csv_chunks(path, shown, None, None))
    from mlopsctl.monitoring.profile import is_numeric

    _check_columns(columns, features, shown)
    use = [c for c in columns if c in features]
    text: dict[str, Any] = {c: str for c in use if not is_numeric(features[c])}
    return Current(None, shown, chunks=lambda: _csv_chunks(path, shown, use, text))


def _csv_chunks(path: Path, shown: str, use: list[str] | None, text: dict[str, Any] | None
                ) -> Iterator[pd.DataFrame]:
    import pandas as pd

    rows = 0
    try:
        with pd.read_csv(path, skipinitialspace=True, usecols=use, dtype=text, chunksize=CHUNK_ROWS) as reader:
            for chunk in reader:
                rows += len(chunk)
                yield chunk
    except Exception as e:  # noqa: BLE001 - a row pandas cannot parse is reported, not a crash
        raise _unreadable(e, shown) from None
    if not rows:
        raise MlopsError(f"data file {shown} has no rows")


def _unreadable(e: Exception, shown: str) -> MlopsError:
    import pandas as pd

    if isinstance(e, MlopsError):
        return e
    if isinstance(e, pd.errors.EmptyDataError):
        return MlopsError(f"data file {shown} is empty; expected a CSV with a header row")
    if isinstance(e, ImportError):
        return MlopsError(f"cannot read {shown}: {e}")
    if isinstance(e, (ValueError, UnicodeDecodeError, OSError, pd.errors.ParserError)):
        return MlopsError(f"data file {shown} is not readable: {e}")
    raise e


def _check_columns(columns: list[str], features: dict[str, dict[str, Any]], shown: str) -> None:
    """A header that names none of the model's features is the wrong file (or a file with no
    header: its first row of values taken for names). A header that lacks some of them is a
    finding of the check ("MISSING COLUMN"), not an error."""
    if any(c in features for c in columns):
        return
    listed = ", ".join(columns[:12]) + (f" and {len(columns) - 12} more" if len(columns) > 12 else "")
    raise MlopsError(
        f"{shown}:1: the header names none of the model's features: missing {', '.join(features)}; "
        f"unexpected {listed or 'nothing'}. Expected a CSV whose first line names the feature columns"
    )


def read_capture(directory: Path, shown: str) -> Current:
    paths = [directory / name for name in FILES if (directory / name).is_file()]
    if not paths:
        raise MlopsError(
            f"no captured requests in {shown}: the deployment writes them there once it serves with "
            "monitor.capture enabled (the default) and receives requests; or pass --data FILE"
        )
    cur = _from_records(_read_lines(paths), shown)
    if cur.frame is None or cur.frame.empty:
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
