"""Issue 17, end to end: an XGBoost model from an MLflow store to a package a serving stack
verifies with the real `model_signing verify key`, every step through the CLI."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

from click.testing import CliRunner
from model_signing._cli import main as model_signing_cli

from audit.release_keys import ReleaseKeyStore, release_public_pem
from console.identity.release_keys import register_release_key
from console.packaging.oms import MODEL_SIGNATURE
from tests.conftest import PASSPHRASE, Runner, Team
from tests.workflow_helpers import tolerate_uncalibrated_models

MLFLOW = Path(__file__).parent / "fixtures_data" / "mlflow"


def test_an_xgboost_model_from_mlflow_reaches_a_package_model_signing_accepts(
    team: Team, signoff: Runner, tmp_path: Path
) -> None:
    tolerate_uncalibrated_models(team)  # a small overfit test model: calibration is not the point
    ReleaseKeyStore(team.keys).create("rel-release", PASSPHRASE.encode())
    release_key = ReleaseKeyStore(team.keys).public_key("rel-release")
    register_release_key(team.store, team["ada"], "rel", release_key)
    home = ("--home", team.home)

    def run(*args: object, user: str) -> str:
        result = signoff(*args, *home, "--as", user)
        assert result.exit_code == 0, result.output
        return result.output

    # One command brings the registered model in, with its MLflow lineage.
    out = run("import", "mlflow", MLFLOW / "mlruns", "--model", "tumour-xgb", user="dana")
    assert "MLflow tumour-xgb v2: imported (xgboost) as tumour-xgb:2" in out

    data = next(MLFLOW.rglob("train.csv"))
    out = run("validate", "tumour-xgb:2", "--data", data, "--target", "malignant", user="dana")
    assert "passed" in out.lower()

    out = run("request", "tumour-xgb:2", "--to", "dev", "--comment", "from MLflow", user="dana")
    request = re.search(r"request (\d+)", out)
    assert request is not None, out
    run("approve", request.group(1), "--comment", "validated on the training set", user="rita")
    run("promote", request.group(1), user="rel")

    package = tmp_path / "tumour-xgb-2.tar.gz"
    out = run("package", "tumour-xgb:2", "-o", package, user="rel")
    assert "model.sig (OpenSSF Model Signing) by release key" in out
    assert signoff("verify-package", package, "--require-stage", "dev", *home).exit_code == 0

    public = tmp_path / "rel-release.pub"
    public.write_text(release_public_pem(release_key))
    with tarfile.open(package) as tar:
        tar.extractall(tmp_path / "served", filter="data")
    (folder,) = (tmp_path / "served").iterdir()
    verified = CliRunner().invoke(
        model_signing_cli,
        [
            "verify",
            "key",
            str(folder),
            "--signature",
            str(folder / MODEL_SIGNATURE),
            "--public_key",
            str(public),
        ],
    )
    assert verified.exit_code == 0, verified.output
    assert verified.output.strip().splitlines()[-1] == "Verification succeeded"
    assert signoff("audit", "verify", *home).exit_code == 0
