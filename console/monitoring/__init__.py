"""Production monitoring: prediction logs, outcomes, drift, decay, champion/challenger, retraining.

One module per concern; every function that changes the store takes the acting signer and writes
its audit event in the same transaction. Heavy work runs in DuckDB SQL over the stored Parquet
logs; nothing here imports Textual, and nothing here promotes a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.lazy import lazy_exports

if TYPE_CHECKING:
    from console.monitoring.compare import CompareResult, canary_state, compare_canary
    from console.monitoring.drift import DriftEvaluation, evaluate_drift
    from console.monitoring.incidents import Incident, list_incidents
    from console.monitoring.ingest import IngestResult, ingest_predictions
    from console.monitoring.labels import OutcomeResult, ingest_outcomes
    from console.monitoring.logs import LogBatch, OutcomeBatchView, log_batches, outcome_batches
    from console.monitoring.performance import PerformanceEvaluation, evaluate_performance
    from console.monitoring.record import Recorded, record_windows
    from console.monitoring.resolution import (
        Resolution,
        resolve_alert,
        resolve_alerts,
        resolve_incident,
    )
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

__getattr__ = lazy_exports(
    __name__,
    {
        "CompareResult": "console.monitoring.compare",
        "canary_state": "console.monitoring.compare",
        "compare_canary": "console.monitoring.compare",
        "DriftEvaluation": "console.monitoring.drift",
        "evaluate_drift": "console.monitoring.drift",
        "Incident": "console.monitoring.incidents",
        "list_incidents": "console.monitoring.incidents",
        "IngestResult": "console.monitoring.ingest",
        "ingest_predictions": "console.monitoring.ingest",
        "OutcomeResult": "console.monitoring.labels",
        "ingest_outcomes": "console.monitoring.labels",
        "LogBatch": "console.monitoring.logs",
        "OutcomeBatchView": "console.monitoring.logs",
        "log_batches": "console.monitoring.logs",
        "outcome_batches": "console.monitoring.logs",
        "PerformanceEvaluation": "console.monitoring.performance",
        "evaluate_performance": "console.monitoring.performance",
        "Recorded": "console.monitoring.record",
        "record_windows": "console.monitoring.record",
        "Resolution": "console.monitoring.resolution",
        "resolve_alert": "console.monitoring.resolution",
        "resolve_alerts": "console.monitoring.resolution",
        "resolve_incident": "console.monitoring.resolution",
        "RetrainResult": "console.monitoring.retrain",
        "retrain": "console.monitoring.retrain",
        "MonitoringSettings": "console.monitoring.settings",
        "monitoring_settings": "console.monitoring.settings",
        "parse_window": "console.monitoring.settings",
        "CheckResult": "console.monitoring.triggers",
        "ModelCheck": "console.monitoring.triggers",
        "run_check": "console.monitoring.triggers",
        "AlertView": "console.monitoring.views",
        "FeatureSeries": "console.monitoring.views",
        "JobView": "console.monitoring.views",
        "MonitoringSummary": "console.monitoring.views",
        "WindowView": "console.monitoring.views",
        "drift_series": "console.monitoring.views",
        "list_alerts": "console.monitoring.views",
        "list_jobs": "console.monitoring.views",
        "monitoring_summary": "console.monitoring.views",
        "recorded_windows": "console.monitoring.views",
        "Crossing": "console.monitoring.windows",
        "WindowResult": "console.monitoring.windows",
    },
)

__all__ = [
    "AlertView",
    "CheckResult",
    "CompareResult",
    "Crossing",
    "DriftEvaluation",
    "FeatureSeries",
    "Incident",
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
    "Resolution",
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
    "list_incidents",
    "list_jobs",
    "log_batches",
    "monitoring_settings",
    "monitoring_summary",
    "outcome_batches",
    "parse_window",
    "record_windows",
    "recorded_windows",
    "resolve_alert",
    "resolve_alerts",
    "resolve_incident",
    "retrain",
    "run_check",
]
