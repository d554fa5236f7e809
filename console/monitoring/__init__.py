"""Production monitoring: prediction logs, outcomes, drift, decay, champion/challenger, retraining.

One module per concern; every function that changes the store takes the acting signer and writes
its audit event in the same transaction. Heavy work runs in DuckDB SQL over the stored Parquet
logs; nothing here imports Textual, and nothing here promotes a model.
"""

from __future__ import annotations

from console.monitoring.compare import CompareResult, canary_state, compare_canary
from console.monitoring.drift import DriftEvaluation, evaluate_drift
from console.monitoring.ingest import IngestResult, ingest_predictions
from console.monitoring.labels import OutcomeResult, ingest_outcomes
from console.monitoring.logs import LogBatch, OutcomeBatchView, log_batches, outcome_batches
from console.monitoring.performance import PerformanceEvaluation, evaluate_performance
from console.monitoring.record import Recorded, record_windows, resolve_alert
from console.monitoring.retrain import RetrainResult, retrain
from console.monitoring.settings import MonitoringSettings, monitoring_settings, parse_window
from console.monitoring.triggers import CheckResult, ModelCheck, run_check
from console.monitoring.views import (
    AlertView,
    FeatureSeries,
    JobView,
    MonitoringSummary,
    WindowView,
    drift_series,
    list_alerts,
    list_jobs,
    monitoring_summary,
    recorded_windows,
)
from console.monitoring.windows import Crossing, WindowResult

__all__ = [
    "AlertView",
    "CheckResult",
    "CompareResult",
    "Crossing",
    "DriftEvaluation",
    "FeatureSeries",
    "IngestResult",
    "JobView",
    "LogBatch",
    "ModelCheck",
    "MonitoringSettings",
    "MonitoringSummary",
    "OutcomeBatchView",
    "OutcomeResult",
    "PerformanceEvaluation",
    "Recorded",
    "RetrainResult",
    "WindowResult",
    "WindowView",
    "canary_state",
    "compare_canary",
    "drift_series",
    "evaluate_drift",
    "evaluate_performance",
    "ingest_outcomes",
    "ingest_predictions",
    "list_alerts",
    "list_jobs",
    "log_batches",
    "monitoring_settings",
    "monitoring_summary",
    "outcome_batches",
    "parse_window",
    "record_windows",
    "recorded_windows",
    "resolve_alert",
    "retrain",
    "run_check",
]
