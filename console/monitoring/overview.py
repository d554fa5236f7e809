"""The monitoring overview: every monitored model with its serving version, in one query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from console.monitoring.views import OPEN
from console.store.db import Store


@dataclass(frozen=True)
class MonitoredModel:
    """One line of the monitoring overview: a model with monitoring records."""

    name: str
    serving: int | None  # the version holding the last stage
    logged_rows: int
    open_alerts: int
    open_jobs: int


@dataclass(frozen=True)
class MonitoringOverview:
    models: list[MonitoredModel]
    unmonitored_serving: int  # models serving the last stage without a single logged row


def monitoring_overview(store: Store, last_stage: str) -> MonitoringOverview:
    """Every model with logs, alerts or jobs, in one query: a registry of thousands stays fast.

    Open alerts first, then by name.
    """
    query = text(
        "WITH logged AS (SELECT model, sum(rows) AS n FROM prediction_logs GROUP BY model), "
        "alerts AS (SELECT model, count(*) AS n FROM monitoring_alerts "
        "  WHERE status = :open GROUP BY model), "
        "jobs AS (SELECT model, count(*) FILTER (WHERE status = :open) AS n "
        "  FROM retraining_jobs GROUP BY model), "
        "watched AS (SELECT model FROM logged UNION SELECT model FROM alerts "
        "  UNION SELECT model FROM jobs) "
        "SELECT w.model, s.version, coalesce(l.n, 0), coalesce(a.n, 0), coalesce(j.n, 0) "
        "FROM watched w LEFT JOIN logged l USING (model) LEFT JOIN alerts a USING (model) "
        "LEFT JOIN jobs j USING (model) "
        "LEFT JOIN stages s ON s.model = w.model AND s.stage = :stage "
        "ORDER BY coalesce(a.n, 0) = 0, w.model"
    )
    unmonitored = text(
        "SELECT count(*) FROM stages s WHERE s.stage = :stage AND s.version IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM prediction_logs p WHERE p.model = s.model)"
    )
    with store.session() as session:
        connection = session.connection()
        rows = connection.execute(query, {"open": OPEN, "stage": last_stage}).all()
        count = connection.execute(unmonitored, {"stage": last_stage}).scalar_one()
    models = [
        MonitoredModel(
            name, None if serving is None else int(serving), int(n), int(alerts), int(jobs)
        )
        for name, serving, n, alerts, jobs in rows
    ]
    return MonitoringOverview(models, int(count))
