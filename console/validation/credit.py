"""The measures credit and insurance model risk teams read: Gini, KS, calibration, score PSI.

For a binary classifier's score (probability of the positive class, e.g. default):
- Gini = 2 AUC - 1, with the AUC's bootstrap interval mapped the same way;
- KS = the largest gap between the score CDFs of positives and negatives (scipy's ks_2samp);
- calibration slope and intercept: the outcome regressed on logit(score) by an unpenalised
  logistic regression (maximum likelihood by Newton's method); a calibrated score has slope 1 and intercept 0, so the
  checks' values are |slope - 1| and |intercept| (both lower is better);
- expected calibration error over ten equal-width score bins, and the Hosmer-Lemeshow test over
  ten equal-count groups (chi-square with 8 degrees of freedom, scipy);
- PSI of the score distribution against the version's first validation run (its baseline).
For a regressor: the residual bias (mean residual over the target's standard deviation).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
from numpy.typing import NDArray
from sqlmodel import col, select

from console.store.db import Store
from console.store.models import ValidationCheck, ValidationRun
from console.validation.bootstrap import BootstrapPlan, Floats
from console.validation.check_detail import mapping
from console.validation.checks import Check, at_least, at_most, finite
from console.validation.credit_details import (
    CalibrationBins,
    CalibrationFit,
    ResidualCheck,
    ScoreDistribution,
    ScoreSeparation,
)
from console.validation.details import MetricEstimate
from console.validation.drift import psi
from console.validation.performance import RocAuc, binary_roc_auc

CALIBRATION_BINS = 10
HL_GROUPS = 10
# Scores are clipped this far inside (0, 1) before the logit, so 0 and 1 stay finite.
LOGIT_EPS = 1e-6
SCORE_PSI = "performance.score_psi"
# Newton steps for the calibration fit; it stops when a step moves the parameters this little.
NEWTON_STEPS = 50
NEWTON_WARM_ROWS = 100_000
NEWTON_TOLERANCE = 1e-10


def binary_score_checks(
    positive: NDArray[np.bool_],
    score: Floats,
    probability: bool,
    plan: BootstrapPlan,
    thresholds: dict[str, float],
    baseline: tuple[int, ScoreDistribution] | None,
    roc_auc: RocAuc | None = None,
) -> list[Check]:
    """gini, ks_statistic and (for probabilities) calibration and score PSI checks; `roc_auc`
    is the run's (binary_roc_auc), computed here when not given."""
    auc = roc_auc if roc_auc is not None else binary_roc_auc(positive, score, plan)
    checks = [_gini(auc, plan, thresholds), _ks(positive, score, thresholds)]
    if probability:
        checks += _calibration(positive, score, thresholds)
        checks.append(_score_psi(score, thresholds, baseline))
    return checks


def _gini(auc: RocAuc | None, plan: BootstrapPlan, thresholds: dict[str, float]) -> Check:
    name = "performance.gini"
    if auc is None:
        detail = MetricEstimate(note="the data holds a single class; Gini needs two")
        return at_least(name, "performance", None, thresholds["min_gini"], detail)
    gini = 2.0 * auc.value - 1.0
    found = plan.interval(gini, 2.0 * auc.draws - 1.0)
    note = f"2 AUC - 1; 95% CI {found.low:.4f} to {found.high:.4f}" if found else "2 AUC - 1"
    detail = MetricEstimate(interval=found, note=note)
    return at_least(name, "performance", gini, thresholds["min_gini"], detail)


def _ks(positive: NDArray[np.bool_], score: Floats, thresholds: dict[str, float]) -> Check:
    from scipy.stats import ks_2samp

    name = "performance.ks_statistic"
    events, others = score[positive], score[~positive]
    if events.size == 0 or others.size == 0:
        detail = ScoreSeparation(note="the data holds a single class; KS needs two")
        return at_least(name, "performance", None, thresholds["min_ks_statistic"], detail)
    result = ks_2samp(events, others)
    detail = ScoreSeparation(
        pvalue=finite(result.pvalue),
        at_score=finite(getattr(result, "statistic_location", None)),
        positives=int(events.size),
        negatives=int(others.size),
        note=f"largest CDF gap between classes; p = {float(result.pvalue):.2g}",
    )
    value = float(result.statistic)
    return at_least(name, "performance", value, thresholds["min_ks_statistic"], detail)


def calibration_fit(positive: NDArray[np.bool_], score: Floats) -> tuple[float, float] | None:
    """(slope, intercept) of outcome ~ logit(score); None with one class or a constant score.

    The unpenalised logistic maximum-likelihood fit, by Newton's method on the two parameters
    (each step one pass of float64 sums over the rows); scikit-learn's solver only if Newton
    does not converge (e.g. a score that separates the classes, where no finite fit exists).
    """
    if positive.all() or not positive.any() or np.ptp(score) == 0:
        return None
    clipped = np.clip(score, LOGIT_EPS, 1.0 - LOGIT_EPS)
    logit = np.log(clipped / (1.0 - clipped))
    y = positive.astype(np.float64)
    fit = _newton_logistic(logit, y)
    if fit is not None:
        return fit
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(logit[:, None], y)
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


def _newton_logistic(x: Floats, y: Floats) -> tuple[float, float] | None:
    """(slope, intercept) maximising the Bernoulli likelihood of y given a + b x: Newton's
    method, from the fit on every tenth row when there are more than NEWTON_WARM_ROWS rows (two
    or three steps on all rows then finish), else from (0, 1), a calibrated score. The
    likelihood is concave, so a step that no longer moves the parameters is at its maximum;
    None when that does not happen in NEWTON_STEPS steps (e.g. no finite maximum)."""
    slope, intercept = 1.0, 0.0
    if x.size > NEWTON_WARM_ROWS:
        slope, intercept = _newton_logistic(x[::10], y[::10]) or (slope, intercept)
    for _ in range(NEWTON_STEPS):
        p = slope * x
        p += intercept
        p *= 0.5
        np.tanh(p, out=p)
        p += 1.0
        p *= 0.5  # the sigmoid of intercept + slope x, overflow-free
        w = p * (1.0 - p)
        p -= y  # the residual
        g0, g1 = float(p.sum()), float(p @ x)
        w_x = w * x
        h00, h01, h11 = float(w.sum()), float(w_x.sum()), float(w_x @ x)
        det = h00 * h11 - h01 * h01
        if not math.isfinite(det) or det <= 0.0:
            return None
        step_a = (h11 * g0 - h01 * g1) / det
        step_b = (h00 * g1 - h01 * g0) / det
        if not (math.isfinite(step_a) and math.isfinite(step_b)):
            return None
        intercept, slope = intercept - step_a, slope - step_b
        if max(abs(step_a), abs(step_b)) < NEWTON_TOLERANCE * (1.0 + abs(slope) + abs(intercept)):
            return slope, intercept
    return None


def reliability(score: Floats, positive: NDArray[np.bool_]) -> CalibrationBins:
    """Ten equal-width score bins: rows, mean score and event rate of each non-empty bin."""
    bins = np.minimum((score * CALIBRATION_BINS).astype(np.intp), CALIBRATION_BINS - 1)
    counts = np.bincount(bins, minlength=CALIBRATION_BINS)
    sums = np.bincount(bins, weights=score, minlength=CALIBRATION_BINS)
    hits = np.bincount(bins, weights=positive.astype(np.float64), minlength=CALIBRATION_BINS)
    kept = counts > 0
    return CalibrationBins(
        binning=f"{CALIBRATION_BINS} equal-width score bins",
        counts=[int(c) for c in counts[kept]],
        mean_score=[float(v) for v in sums[kept] / counts[kept]],
        event_rate=[float(v) for v in hits[kept] / counts[kept]],
    )


def expected_calibration_error(table: CalibrationBins) -> float:
    """Row-weighted mean gap between each bin's mean score and its event rate."""
    total = sum(table.counts)
    return float(
        sum(
            n * abs(s - r)
            for n, s, r in zip(table.counts, table.mean_score, table.event_rate, strict=True)
        )
        / total
    )


def hosmer_lemeshow(score: Floats, positive: NDArray[np.bool_]) -> CalibrationBins:
    """Equal-count groups by score: sum over groups of (O - E)^2 / (n p (1 - p)), chi-square g-2."""
    order = np.argsort(score, kind="stable")
    groups = [g for g in np.array_split(order, min(HL_GROUPS, score.size)) if g.size]
    counts = np.array([g.size for g in groups], dtype=np.float64)
    mean = np.array([score[g].mean() for g in groups])
    observed = np.array([positive[g].sum() for g in groups], dtype=np.float64)
    spread = counts * mean * (1.0 - mean)
    used = spread > 0
    statistic = float((((observed - counts * mean) ** 2)[used] / spread[used]).sum())
    dof = max(len(groups) - 2, 1)
    return CalibrationBins(
        binning=f"{len(groups)} equal-count score groups",
        counts=[int(c) for c in counts],
        mean_score=[float(v) for v in mean],
        event_rate=[float(v) for v in observed / counts],
        statistic=statistic,
        dof=dof,
        note=f"chi-square {statistic:.2f} on {dof} df",
    )


def _calibration(
    positive: NDArray[np.bool_], score: Floats, thresholds: dict[str, float]
) -> list[Check]:
    from scipy.stats import chi2

    fit = calibration_fit(positive, score)
    slope, intercept = fit if fit is not None else (None, None)
    detail = CalibrationFit(
        slope=slope,
        intercept=intercept,
        note=f"outcome ~ {intercept:+.3f} + {slope:.3f} logit(score); calibrated: 0 + 1 logit"
        if slope is not None and intercept is not None
        else "needs two classes and a score that varies",
    )
    checks = [
        at_most(
            "performance.calibration_slope_deviation",
            "performance",
            abs(slope - 1.0) if slope is not None else None,
            thresholds["max_calibration_slope_deviation"],
            detail,
        ),
        at_most(
            "performance.calibration_intercept_deviation",
            "performance",
            abs(intercept) if intercept is not None else None,
            thresholds["max_calibration_intercept_deviation"],
            detail,
        ),
    ]
    table = reliability(score, positive)
    ece = expected_calibration_error(table)
    checks.append(
        at_most(
            "performance.expected_calibration_error",
            "performance",
            ece,
            thresholds["max_expected_calibration_error"],
            CalibrationBins(
                binning=table.binning,
                counts=table.counts,
                mean_score=table.mean_score,
                event_rate=table.event_rate,
                note=f"mean |score - event rate| over {len(table.counts)} bins",
            ),
        )
    )
    hl = hosmer_lemeshow(score, positive)
    pvalue = float(chi2.sf(hl.statistic or 0.0, hl.dof or 1))
    checks.append(
        at_least(
            "performance.hosmer_lemeshow",
            "performance",
            pvalue,
            thresholds.get("min_hosmer_lemeshow_pvalue"),
            hl,
        )
    )
    return checks


def score_edges(score: Floats) -> list[float]:
    """Decile edges of the scores (distinct ones): the bins later runs are compared on."""
    return sorted({float(v) for v in np.quantile(score, np.linspace(0.1, 0.9, 9))})


def score_shares(score: Floats, edges: list[float]) -> list[float]:
    """Shares of the scores per bin; the outer bins are open-ended."""
    counts = np.bincount(
        np.searchsorted(np.asarray(edges), score, side="right"), minlength=len(edges) + 1
    )
    return [float(v) for v in counts / max(score.size, 1)]


def _score_psi(
    score: Floats, thresholds: dict[str, float], baseline: tuple[int, ScoreDistribution] | None
) -> Check:
    if baseline is None or not baseline[1].edges or not baseline[1].share:
        edges = score_edges(score)
        detail = ScoreDistribution(
            edges=edges,
            share=score_shares(score, edges),
            note="first score distribution of this version: the baseline later runs are compared to",
        )
        return Check(SCORE_PSI, "performance", "info", None, None, detail)
    run, reference = baseline
    share = score_shares(score, reference.edges)
    value = psi(np.asarray(reference.share), np.asarray(share))
    detail = ScoreDistribution(
        edges=reference.edges,
        share=share,
        baseline_run=run,
        baseline_share=reference.share,
        note=f"score PSI against run {run}'s distribution",
    )
    return at_most(SCORE_PSI, "performance", value, thresholds["max_score_psi"], detail)


def score_baseline(store: Store, model: str, version: int) -> tuple[int, ScoreDistribution] | None:
    """The version's first run that recorded a score distribution, with that distribution."""
    with store.session() as session:
        row = session.exec(
            select(ValidationCheck.run_id, ValidationCheck.detail)
            .join(ValidationRun, col(ValidationRun.id) == col(ValidationCheck.run_id))
            .where(
                ValidationRun.model == model,
                ValidationRun.version == version,
                ValidationCheck.name == SCORE_PSI,
            )
            .order_by(col(ValidationCheck.run_id))
        ).first()
    if row is None:
        return None
    return int(row[0]), ScoreDistribution.from_json(mapping(json.loads(row[1])))


def residual_check(y: Floats, predicted: Floats, thresholds: dict[str, float]) -> Check:
    """performance.residual_bias: |mean residual| / std(target); t-test and Spearman in detail."""
    from scipy.stats import spearmanr, ttest_1samp

    residual = y - predicted
    spread = float(np.std(y))
    name = "performance.residual_bias"
    if residual.size < 3 or spread == 0:
        detail = ResidualCheck(note="needs three rows and a target that varies")
        return at_most(name, "performance", None, thresholds["max_residual_bias"], detail)
    mean = float(residual.mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pvalue = finite(ttest_1samp(residual, 0.0).pvalue)
        rho = finite(spearmanr(predicted, residual).statistic)
    detail = ResidualCheck(
        mean_residual=mean,
        target_std=spread,
        pvalue=pvalue,
        spearman_with_prediction=rho,
        note=f"mean residual {mean:+.4g} (t-test p = {pvalue if pvalue is not None else float('nan'):.2g})"
        + (f"; Spearman with prediction {rho:+.2f}" if rho is not None else ""),
    )
    return at_most(name, "performance", abs(mean) / spread, thresholds["max_residual_bias"], detail)
