"""Inference logs as SageMaker data capture and KServe's logger write them, ingested as logs.

The capture files are written here, record by record, in the shapes those stacks document:
SageMaker's `captureData` lines (CSV, JSON and BASE64 payloads) and KServe's Open Inference
Protocol v2 requests and responses, bare or inside CloudEvents.
"""

from __future__ import annotations

import base64
import json
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sqlmodel import select

from console import api
from console.registry.views import get_model
from console.store.artifacts import ArtifactStore
from console.store.db import Store
from console.store.models import PredictionLog
from fixtures.credit import CATEGORICAL_COLUMNS, NUMERIC_COLUMNS, make_credit_drifted
from tests.conftest import Runner, make_team, one_line_error

Unchanged = Callable[[Path], Callable[[], None]]
MODEL = "credit-risk"
FEATURES = [*NUMERIC_COLUMNS, *CATEGORICAL_COLUMNS]
ROWS = 12


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """credit-risk v1 registered; the rows it served and its predictions in `served.json`."""
    root = tmp_path_factory.mktemp("capture")
    team = make_team(root / "home", root / "keys")
    train = make_credit_drifted(600, seed=1, shift=0.0)
    prepare = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(), StandardScaler()), list(NUMERIC_COLUMNS)),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_COLUMNS)),
        ]
    )
    model = Pipeline([("prepare", prepare), ("classify", LogisticRegression(max_iter=500))])
    model.fit(train[FEATURES], train["default"])
    api.register_model(
        team.store, team["dana"], MODEL, model, train[[*FEATURES, "default"]], target="default"
    )
    order = [str(c["name"]) for c in get_model(team.store, MODEL).versions[0].input_schema]
    served = make_credit_drifted(ROWS, seed=5, shift=0.0)[order]
    rows = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in served.to_dict(orient="records")
    ]
    result = {
        "order": order,
        "rows": rows,
        "predictions": [int(p) for p in model.predict(served)],
        "scores": [float(s) for s in model.predict_proba(served)[:, 1]],
    }
    (root / "served.json").write_text(json.dumps(result))
    team.store.dispose()
    yield root


@pytest.fixture
def home(template: Path, tmp_path: Path, isolated_env: Path) -> Path:
    shutil.copytree(template / "home", tmp_path / "home")
    shutil.copytree(template / "keys", isolated_env, dirs_exist_ok=True)
    return tmp_path / "home"


@pytest.fixture
def served(template: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((template / "served.json").read_text())
    return data


def when(i: int) -> str:
    return f"2026-11-02T09:{i:02d}:00Z"


def csv_line(values: list[Any]) -> str:
    return ",".join("" if v is None else str(v) for v in values)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


# ---- SageMaker ---------------------------------------------------------------------------------


def sagemaker_record(served: dict[str, Any], i: int, *, style: str = "csv") -> dict[str, Any]:
    """One invocation of row i (csv: CSV encoding; base64: a JSON body, BASE64-encoded)."""
    row = served["rows"][i]
    values = [row[c] for c in served["order"]]
    if style == "csv":
        endpoint_input = {"observedContentType": "text/csv", "mode": "INPUT",
                          "data": csv_line(values), "encoding": "CSV"}  # fmt: skip
        endpoint_output = {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                           "data": f"{served['predictions'][i]},{served['scores'][i]}",
                           "encoding": "CSV"}  # fmt: skip
    else:
        body = json.dumps({"instances": [{"features": values}]})
        answer = json.dumps(
            {
                "predictions": [
                    {"predicted_label": served["predictions"][i], "score": served["scores"][i]}
                ]
            }
        )
        endpoint_input = {"observedContentType": "application/json", "mode": "INPUT",
                          "data": b64(body), "encoding": "BASE64"}  # fmt: skip
        endpoint_output = {"observedContentType": "application/json", "mode": "OUTPUT",
                           "data": b64(answer), "encoding": "BASE64"}  # fmt: skip
    return {
        "captureData": {"endpointInput": endpoint_input, "endpointOutput": endpoint_output},
        "eventMetadata": {
            "eventId": f"evt-{i}",
            "inferenceId": f"req-{i}",
            "inferenceTime": when(i),
        },
        "eventVersion": "0",
    }


def sagemaker_batch(served: dict[str, Any], first: int, last: int) -> dict[str, Any]:
    """One invocation carrying rows first..last-1 as a multi-row CSV payload."""
    rows = served["rows"][first:last]
    data = "\n".join(csv_line([r[c] for c in served["order"]]) for r in rows)
    answers = "\n".join(str(p) for p in served["predictions"][first:last])
    return {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": data,
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv",
                "mode": "OUTPUT",
                "data": answers,
                "encoding": "CSV",
            },
        },
        "eventMetadata": {"eventId": "evt-batch", "inferenceTime": when(first)},
        "eventVersion": "0",
    }


def stored_log(home: Path, digest: str) -> pd.DataFrame:
    path = ArtifactStore(Store(home).artifacts_dir).path_for(digest)
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY request_id").df()
    finally:
        con.close()


def test_sagemaker_capture_is_ingested_as_a_log(
    home: Path, served: dict[str, Any], signoff: Runner, tmp_path: Path
) -> None:
    lines = [sagemaker_record(served, i, style="csv" if i < 4 else "base64") for i in range(8)]
    lines.append(sagemaker_batch(served, 8, ROWS))
    capture = write_lines(tmp_path / "capture.jsonl", lines)

    result = signoff("monitor", "ingest", MODEL, "--predictions", capture, "--as", "rel",
                     "--home", home)  # fmt: skip
    assert "does not say which version served it; give --version N" in one_line_error(result)

    result = signoff("monitor", "ingest", MODEL, "--predictions", capture, "--version", 1,
                     "--as", "rel", "--home", home, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rows"] == ROWS and data["versions"] == {"1": ROWS}
    assert data["with_request_ids"] == ROWS
    assert data["first_ts"].startswith("2026-11-02T09:00:00")

    log = stored_log(home, data["artifact_sha256"]).set_index("request_id")
    ids = [f"req-{i}" for i in range(8)] + [f"evt-batch#{n}" for n in range(1, ROWS - 7)]
    assert sorted(log.index) == sorted(ids)
    for i, rid in enumerate(ids):
        row = served["rows"][i]
        assert str(log.loc[rid, "prediction"]) == str(served["predictions"][i])
        assert log.loc[rid, "income"] == pytest.approx(row["income"], nan_ok=True)
        assert log.loc[rid, "purpose"] == row["purpose"]
    assert log.loc["req-5", "score"] == pytest.approx(served["scores"][5])
    assert log["score"].isna().sum() == ROWS - 8  # a CSV answer with one value: no score

    with Store(home).session() as session:
        (stored,) = session.exec(select(PredictionLog)).all()
    assert stored.source_format == "sagemaker" and stored.source_name == "capture.jsonl"


# ---- KServe ------------------------------------------------------------------------------------


def kserve_exchange(served: dict[str, Any], i: int, *, wrapped: bool) -> list[dict[str, Any]]:
    """Row i's request (one tensor per feature) and response, bare or as CloudEvents."""
    row = served["rows"][i]
    inputs = [
        {
            "name": c,
            "shape": [1],
            "datatype": "BYTES" if isinstance(row[c], str) else "FP64",
            "data": [row[c]],
        }
        for c in served["order"]
    ]
    request = {"id": f"kreq-{i}", "inputs": inputs}
    p = served["scores"][i]
    response = {
        "id": f"kreq-{i}",
        "model_name": MODEL,
        "model_version": "1",
        "outputs": [
            {
                "name": "predict",
                "shape": [1],
                "datatype": "INT64",
                "data": [served["predictions"][i]],
            },
            {"name": "predict_proba", "shape": [1, 2], "datatype": "FP64", "data": [1 - p, p]},
        ],
    }
    if not wrapped:
        return [{**request, "timestamp": when(i)}, response]
    event = {"specversion": "1.0", "id": f"ce-{i}", "source": "http://localhost:9081/"}
    return [
        {
            **event,
            "type": "org.kubeflow.serving.inference.request",
            "time": when(i),
            "datacontenttype": "application/json",
            "data": {"inputs": inputs},
        },
        {
            **event,
            "type": "org.kubeflow.serving.inference.response",
            "time": when(i),
            "datacontenttype": "application/json",
            "data": json.dumps({k: v for k, v in response.items() if k != "id"}),
        },
    ]


def kserve_batch(served: dict[str, Any], first: int, last: int) -> list[dict[str, Any]]:
    """Rows first..last-1 in one [N, F] tensor; the response before the request."""
    rows = served["rows"][first:last]
    data = [[r[c] for c in served["order"]] for r in rows]
    request = {"id": "kbatch", "timestamp": when(first),
               "inputs": [{"name": "input-0", "shape": [len(rows), len(served["order"])],
                           "datatype": "BYTES", "data": data}]}  # fmt: skip
    response = {"id": "kbatch", "model_name": MODEL,
                "outputs": [{"name": "predict", "shape": [len(rows)], "datatype": "INT64",
                             "data": served["predictions"][first:last]}]}  # fmt: skip
    return [response, request]


def test_kserve_requests_and_responses_are_paired_by_id(
    home: Path, served: dict[str, Any], signoff: Runner, tmp_path: Path
) -> None:
    lines = [*kserve_exchange(served, 0, wrapped=False)]
    for i in range(1, 8):
        lines += kserve_exchange(served, i, wrapped=i % 2 == 0)
    lines[2], lines[3], lines[4] = lines[4], lines[2], lines[3]  # interleaved exchanges
    batch = write_lines(tmp_path / "batch.jsonl", kserve_batch(served, 8, ROWS))
    capture = write_lines(tmp_path / "kserve.jsonl", lines)

    result = signoff("monitor", "ingest", MODEL, "--predictions", capture, "--as", "rel",
                     "--home", home, "--json")  # fmt: skip  # model_version says 1
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rows"] == 8 and data["versions"] == {"1": 8}
    log = stored_log(home, data["artifact_sha256"]).set_index("request_id")
    ids = {i: (f"ce-{i}" if i % 2 == 0 and i else f"kreq-{i}") for i in range(8)}
    for i, rid in ids.items():
        assert str(log.loc[rid, "prediction"]) == str(served["predictions"][i])
        assert log.loc[rid, "score"] == pytest.approx(served["scores"][i])
        assert log.loc[rid, "employment_type"] == served["rows"][i]["employment_type"]
        assert pd.Timestamp(str(log.loc[rid, "ts"])) == pd.Timestamp(when(i)).tz_localize(None)

    result = signoff("monitor", "ingest", MODEL, "--predictions", batch, "--format", "kserve",
                     "--version", 1, "--as", "rel", "--home", home, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    log = stored_log(home, json.loads(result.output)["artifact_sha256"]).set_index("request_id")
    assert list(log.index) == [f"kbatch#{n}" for n in range(1, ROWS - 7)]
    assert log["income"].tolist() == pytest.approx(
        [r["income"] for r in served["rows"][8:]], nan_ok=True
    )


# ---- bad input: one line, exit 2, nothing stored ----------------------------------------------


def _bad(served: dict[str, Any], case: str) -> tuple[list[Any], list[str]]:
    """The file's lines and extra arguments for one bad case."""
    good = [sagemaker_record(served, i) for i in range(3)]
    if case == "not_json":
        return [*good[:2], '{"captureData": {"endpointInput": ', good[2]], ["--version", "1"]
    if case == "not_sagemaker":
        return kserve_exchange(served, 0, wrapped=False), ["--format", "sagemaker"]
    if case == "csv_claims_sagemaker":
        return ["timestamp,version,prediction", "2026-11-02,1,0"], ["--format", "sagemaker"]
    if case == "response_without_request":
        lines = kserve_exchange(served, 0, wrapped=False) + kserve_exchange(
            served, 1, wrapped=False
        )
        return [lines[0], lines[1], lines[3]], ["--format", "kserve"]
    if case == "bad_base64":
        record = sagemaker_record(served, 2, style="base64")
        record["captureData"]["endpointInput"]["data"] = "not*base64!"
        return [*good[:2], record], ["--version", "1"]
    if case == "wrong_columns":
        record = sagemaker_record(served, 1)
        record["captureData"]["endpointInput"]["data"] += ",7"
        return [good[0], record, good[2]], ["--version", "1"]
    if case == "unknown_version":
        return good, ["--version", "4"]
    if case == "version_for_csv":
        return ["timestamp,version,prediction", "2026-11-02,1,0"], ["--version", "1"]
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("not_json", "bad.jsonl line 3: not JSON"),
        ("not_sagemaker", "bad.jsonl is not sagemaker: its first line is not a SageMaker"),
        ("csv_claims_sagemaker", "bad.jsonl is not sagemaker"),
        (
            "response_without_request",
            "1 responses without their request (e.g. 'kreq-1' on line 3)",
        ),
        ("bad_base64", "bad.jsonl line 3: captureData.endpointInput's BASE64 data does not"),
        (
            "wrong_columns",
            f"bad.jsonl line 2: endpointInput row 1 has {len(FEATURES) + 1} values, but the",
        ),
        ("unknown_version", "--version 4: credit-risk has no such version"),
        ("version_for_csv", "--version applies to sagemaker and kserve logs"),
    ],
)
def test_bad_capture_files_are_refused_whole(
    home: Path,
    served: dict[str, Any],
    signoff: Runner,
    unchanged: Unchanged,
    tmp_path: Path,
    case: str,
    expected: str,
) -> None:
    lines, extra = _bad(served, case)
    path = write_lines(tmp_path / "bad.jsonl", lines)
    check = unchanged(home)
    result = signoff("monitor", "ingest", MODEL, "--predictions", path, *extra, "--as", "rel",
                     "--home", home)  # fmt: skip
    line = one_line_error(result)
    assert expected in line, line
    check()
