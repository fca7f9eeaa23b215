"""The plots' summary read back from the files the trainer writes (what plans and PR comments show)."""

from __future__ import annotations

from pathlib import Path

from mlopsctl.training.plotfiles import summarize, write_plots


def test_classifier_summary_matches_what_was_written(tmp_path: Path) -> None:
    truth = ["a", "a", "b", "b", "c", "c", "c"]
    pred = ["a", "b", "b", "b", "c", "a", "c"]
    scores = [[0.9, 0.1, 0.0], [0.4, 0.6, 0.0], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1],
              [0.0, 0.1, 0.9], [0.5, 0.2, 0.3], [0.1, 0.1, 0.8]]
    write_plots(tmp_path, "m", "classification", truth, pred, scores=scores, classes=["a", "b", "c"])
    s = summarize(tmp_path, "m", "classification")
    assert s is not None and s["confusion"] == {"labels": ["a", "b", "c"],
                                                "counts": [[1, 1, 0], [0, 2, 0], [1, 0, 2]]}
    assert 0.5 < s["roc"]["auc"] <= 1.0 and 0.5 < s["precision_recall"]["auc"] <= 1.0


def test_hand_edited_plot_files_give_no_summary_rather_than_a_traceback(tmp_path: Path) -> None:
    write_plots(tmp_path, "m", "classification", ["a", "b"], ["a", "b"], scores=[[0.9, 0.1], [0.2, 0.8]],
                classes=["a", "b"], pos_label="b")
    plots = tmp_path / "reports" / "m" / "plots"
    roc = plots / "roc.csv"
    text = roc.read_text()
    roc.write_text(text + "\n\n")  # blank lines are skipped
    assert summarize(tmp_path, "m", "classification") is not None
    for broken in ("fpr,tpr,threshold\n0.5\n", "x,y\n1,2\n", "fpr,tpr,threshold\nzero,1,1\n"):
        roc.write_text(broken)  # a short row, other columns, not a number
        assert summarize(tmp_path, "m", "classification") is None
    roc.unlink()
    assert summarize(tmp_path, "m", "classification") is None


def test_regression_summary(tmp_path: Path) -> None:
    actual = [float(i) for i in range(40)]
    predicted = [a + (1 if i % 2 else -1) for i, a in enumerate(actual)]
    write_plots(tmp_path, "r", "regression", actual, predicted)
    s = summarize(tmp_path, "r", "regression")
    assert s is not None and s["task"] == "regression"
    assert sum(b["rows"] for b in s["predicted_vs_actual"]["bins"]) == 40
    assert abs(s["residuals"]["mean"]) < 1e-9 and sum(s["residuals"]["histogram"]) == 40
    f = tmp_path / "reports" / "r" / "plots" / "predicted_vs_actual.csv"
    f.write_text("actual\n1\n2\n")  # a column gone
    assert summarize(tmp_path, "r", "regression") is None
    f.write_bytes(b"\xff\xfe")
    assert summarize(tmp_path, "r", "regression") is None
