"""A Model spec (``models/<name>.yaml``) as typed, frozen objects with every default decided here.

The default task, the default metrics of each task, the split and cross-validation defaults:
this module is the one place that knows them. Built from the schema-valid plain data of
:class:`mlopsctl.specs.model.SpecDoc`, which keeps the key locations for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlopsctl.specs.project import mapping, opt_str

DEFAULT_TASK = "classification"
DEFAULT_METRICS = {"classification": ("accuracy",), "regression": ("r2",)}
"""The metrics a model is evaluated on when its spec lists none, per task."""
DEFAULT_PREPROCESSING = "auto"
DEFAULT_TEST_SIZE = 0.25
DEFAULT_SEED = 0
DEFAULT_FOLDS = 5
DEFAULT_NO_WORSE_THAN_ENV = "production"
DEFAULT_DRIFT_METHOD = "psi"
DEFAULT_DRIFT_THRESHOLD = 0.2
DEFAULT_DRIFT_MIN_ROWS = 200
"""Current rows a drift check needs. Chosen by simulation (tests/monitoring/test_sample_size.py,
200 seeds, six checks per report): with 200 unshifted rows against a reference of 300 or more
training rows, at most 5% of seeds raise a false alarm at PSI > 0.2 (2.5% at 300 reference rows,
none from 1,000), and none with KS; scored at 100 rows, PSI raises one on 16-35% of seeds."""
DEFAULT_DRIFT_MIN_FEATURE_ROWS = 200
"""Non-missing current values a feature needs for its drift score to count (same reasoning)."""
DEFAULT_RETRAIN_MODE = "replace"


def default_metrics(task: str) -> tuple[str, ...]:
    """The metrics of a spec that lists none."""
    return DEFAULT_METRICS["classification" if task == DEFAULT_TASK else "regression"]


@dataclass(frozen=True)
class DataSpec:
    """``data``: the training data file and the column to predict."""

    path: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class FeatureSpec:
    """One input column under ``features`` and its contract."""

    name: str
    type: str | None = None
    min: float | None = None
    max: float | None = None
    values: tuple[Any, ...] | None = None
    max_null_fraction: float = 0.0
    required: bool = True
    description: str | None = None


@dataclass(frozen=True)
class EstimatorSpec:
    """``estimator``: the class to train and its constructor parameters (as written)."""

    class_: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SplitSpec:
    """``split``: evaluation on a hold-out test set."""

    test_size: float = DEFAULT_TEST_SIZE
    random_state: int | None = DEFAULT_SEED
    stratify: bool | None = None
    """None: not said; the trainer stratifies classification."""


@dataclass(frozen=True)
class CVSpec:
    """``cv``: evaluation with k-fold cross-validation."""

    folds: int = DEFAULT_FOLDS
    random_state: int | None = DEFAULT_SEED


@dataclass(frozen=True)
class NoWorseThan:
    """``gates.no_worse_than``: compare with what an environment serves."""

    environment: str = DEFAULT_NO_WORSE_THAN_ENV
    metric: str = ""
    by: float = 0.0

    @classmethod
    def from_data(cls, rule: dict[str, Any]) -> NoWorseThan:
        return cls(environment=str(rule.get("environment") or DEFAULT_NO_WORSE_THAN_ENV),
                   metric=str(rule.get("metric") or ""), by=float(rule.get("by") or 0.0))


@dataclass(frozen=True)
class GatesSpec:
    """``gates``: metric -> comparison (``">= 0.9"``), plus the optional ``no_worse_than``."""

    thresholds: dict[str, str] = field(default_factory=dict)
    no_worse_than: NoWorseThan | None = None
    fairness: dict[str, Any] | None = None
    """``gates.fairness`` as written: ``max_gap`` (metric -> largest gap between groups) and
    ``min_group_size``; None when the spec sets no per-group limit."""
    written: dict[str, Any] = field(default_factory=dict)
    """The gates as the spec writes them, in spec order (what the plan shows and the registry records)."""


@dataclass(frozen=True)
class FairnessSpec:
    """``fairness``: the sensitive columns evaluation reports per group."""

    sensitive: tuple[str, ...]
    as_features: bool = False
    """The sensitive columns are model features too (never, unless the spec says so)."""
    positive_label: Any = None


@dataclass(frozen=True)
class TrainSpec:
    """``train``: a custom training command instead of the built-in trainer."""

    cmd: str
    """As written (the stage strips it)."""
    deps: tuple[str, ...] = ()
    outs: tuple[str, ...] = ()
    metrics: str | None = None


@dataclass(frozen=True)
class ServeSpec:
    """One environment under ``serve``: the version it serves."""

    version: int | str = "latest"
    """A registry version number, or ``"latest"``."""


@dataclass(frozen=True)
class DriftSpec:
    method: str = DEFAULT_DRIFT_METHOD
    threshold: float = DEFAULT_DRIFT_THRESHOLD
    min_rows: int = DEFAULT_DRIFT_MIN_ROWS
    """Below this many current rows a check says "not enough data", never drift."""
    min_feature_rows: int = DEFAULT_DRIFT_MIN_FEATURE_ROWS
    """Below this many non-missing values a feature's score does not count."""


@dataclass(frozen=True)
class CaptureSpec:
    enabled: bool = True
    sample: float = 1.0
    max_mb: float = 50.0


@dataclass(frozen=True)
class RetrainSpec:
    data: str
    mode: str = DEFAULT_RETRAIN_MODE


@dataclass(frozen=True)
class MonitorSpec:
    """``monitor``: drift measurement, request capture, the CI schedule and continuous training."""

    drift: DriftSpec = field(default_factory=DriftSpec)
    capture: CaptureSpec = field(default_factory=CaptureSpec)
    schedule: str | None = None
    retrain: RetrainSpec | None = None


@dataclass(frozen=True)
class ModelSpec:
    """``models/<name>.yaml``, defaults filled in."""

    name: str
    task: str = DEFAULT_TASK
    description: str | None = None
    data: DataSpec = field(default_factory=DataSpec)
    features: dict[str, FeatureSpec] = field(default_factory=dict)
    """In spec order."""
    estimator: EstimatorSpec = field(default_factory=EstimatorSpec)
    preprocessing: str = DEFAULT_PREPROCESSING
    split: SplitSpec | None = None
    """None when the spec uses ``cv``."""
    cv: CVSpec | None = None
    listed_metrics: tuple[str, ...] = ()
    """The metrics the spec lists (empty when it lists none)."""
    gates: GatesSpec = field(default_factory=GatesSpec)
    fairness: FairnessSpec | None = None
    """None when the spec names no sensitive column."""
    train: TrainSpec | None = None
    serve: dict[str, ServeSpec] = field(default_factory=dict)
    """Environment -> what it serves, in spec order; empty: the model is not served."""
    monitor: MonitorSpec | None = None
    """None when the spec has no (or an empty) ``monitor``."""

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics evaluated: the listed ones, else the task's defaults."""
        return self.listed_metrics or default_metrics(self.task)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ModelSpec:
        """The typed view of schema-valid data (tolerant of missing keys, as tests build partial specs)."""
        task = str(data.get("task") or DEFAULT_TASK)
        d = mapping(data.get("data"))
        est = mapping(data.get("estimator"))
        split = mapping(data.get("split"))
        in_cv = bool(data.get("cv")) or "cv" in split  # tolerated: cv written under split
        cv = mapping(data.get("cv")) if data.get("cv") else mapping(split.get("cv"))
        gates = mapping(data.get("gates"))
        nwt = gates.get("no_worse_than")
        train = mapping(data.get("train"))
        fair = mapping(data.get("fairness"))
        metrics = data.get("metrics")
        return cls(
            name=str(data.get("name") or ""),
            task=task,
            description=opt_str(data.get("description")),
            data=DataSpec(path=opt_str(d.get("path")), target=opt_str(d.get("target"))),
            features={str(n): _feature(str(n), mapping(f)) for n, f in mapping(data.get("features")).items()},
            estimator=EstimatorSpec(class_=opt_str(est.get("class")), params=dict(est.get("params") or {})),
            preprocessing=str(data.get("preprocessing") or DEFAULT_PREPROCESSING),
            split=None if in_cv else SplitSpec(
                test_size=split.get("test_size", DEFAULT_TEST_SIZE),
                random_state=split.get("random_state", DEFAULT_SEED),
                stratify=split.get("stratify"),
            ),
            cv=CVSpec(folds=cv.get("folds", DEFAULT_FOLDS), random_state=cv.get("random_state", DEFAULT_SEED))
            if in_cv else None,
            listed_metrics=tuple(str(m) for m in metrics) if isinstance(metrics, list) else (),
            gates=GatesSpec(
                thresholds={str(k): str(v) for k, v in gates.items()
                            if k not in ("no_worse_than", "fairness", "baseline")},
                no_worse_than=NoWorseThan.from_data(nwt) if isinstance(nwt, dict) else None,
                fairness=dict(gates["fairness"]) if isinstance(gates.get("fairness"), dict) else None,
                written=dict(gates),
            ),
            fairness=FairnessSpec(sensitive=tuple(str(c) for c in fair["sensitive"]),
                                  as_features=bool(fair.get("as_features")),
                                  positive_label=fair.get("positive_label")) if fair.get("sensitive") else None,
            train=TrainSpec(
                cmd=str(train["cmd"]),
                deps=tuple(str(p) for p in train.get("deps") or ()),
                outs=tuple(str(p) for p in train.get("outs") or ()),
                metrics=opt_str(train.get("metrics")),
            ) if train.get("cmd") else None,
            serve={str(env): ServeSpec(version=mapping(entry).get("version", "latest"))
                   for env, entry in mapping(data.get("serve")).items()},
            monitor=_monitor(mapping(data.get("monitor"))),
        )


def _feature(name: str, f: dict[str, Any]) -> FeatureSpec:
    values = f.get("values")
    return FeatureSpec(
        name=name,
        type=opt_str(f.get("type")),
        min=f.get("min"),
        max=f.get("max"),
        values=tuple(values) if isinstance(values, list) else None,
        max_null_fraction=float(f.get("max_null_fraction", 0) or 0),
        required=bool(f.get("required", True)),
        description=opt_str(f.get("description")),
    )


def _monitor(m: dict[str, Any]) -> MonitorSpec | None:
    if not m:
        return None
    drift, cap, retrain = mapping(m.get("drift")), mapping(m.get("capture")), mapping(m.get("retrain"))
    return MonitorSpec(
        drift=DriftSpec(method=str(drift.get("method") or DEFAULT_DRIFT_METHOD),
                        threshold=float(drift.get("threshold") or DEFAULT_DRIFT_THRESHOLD),
                        min_rows=int(drift.get("min_rows") or DEFAULT_DRIFT_MIN_ROWS),
                        min_feature_rows=int(drift.get("min_feature_rows") or DEFAULT_DRIFT_MIN_FEATURE_ROWS)),
        capture=CaptureSpec(enabled=cap.get("enabled", True) is not False, sample=float(cap.get("sample", 1.0)),
                            max_mb=float(cap.get("max_mb", 50))),
        schedule=str(m["schedule"]) if m.get("schedule") is not None else None,
        retrain=RetrainSpec(data=str(retrain["data"]), mode=str(retrain.get("mode") or DEFAULT_RETRAIN_MODE))
        if retrain.get("data") else None,
    )
