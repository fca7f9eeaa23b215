"""The model card renders from a version record alone, also when the lineage is sparse."""

from __future__ import annotations

from mlopsctl.registry.card import render_card
from mlopsctl.registry.state import ModelVersion


def test_card_with_sparse_lineage() -> None:
    mv = ModelVersion(
        model="m", version=1, tag="m@v1.0.0", commit="abc", artifact_md5="d41d8", artifact_sha256="e3b0c",
        metrics={}, lineage={"params": {"sep": "a|b"}, "train_cmd": "python src/train.py"},
    )
    card = render_card(mv, [])
    assert card.startswith("# Model card: m v1\n")
    assert "| Serving in | no environment |" in card
    assert "No metrics were recorded." in card and "## Training data\n\nNot recorded." in card
    assert "| sep | `a\\|b` |" in card  # a pipe would break the Markdown table
    assert "| Train command | `python src/train.py` |" in card
    assert "`artifacts/m/model.joblib`, md5 `d41d8`, sha256 `e3b0c`." in card
