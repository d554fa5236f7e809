"""Feature drift against the training profile: PSI on its bins and a binned two-sample KS test.

The counts come from one DuckDB scan of the file (`reference.measure_file`); this module only
combines them (a few numbers per feature).

PSI. Numeric features use the profile's equal-frequency bins, with the outer bins extended to
-inf and +inf so that every finite value falls in a bin (values outside the training range are
also reported by `data.out_of_range`); a constant training column gets three bins: below, at and
above its value. Categorical features use the profile's categories plus one "other" bucket.
Empty shares are replaced by 1e-4 so the logarithm is defined: PSI = sum (a - e) ln(a / e).
PSI above max_psi fails. Between 0.1 and max_psi it warns, but only when it also exceeds what
sampling alone produces 99% of the time: with no drift, PSI is about (1/n + 1/m) times a
chi-square with bins - 1 degrees of freedom (its 99% point by the Wilson-Hilferty formula), which
for a 143-row holdout and 10 bins is about 0.2; small holdouts would otherwise always warn.

KS. The profile does not keep the training rows, only its histogram, so the training CDF is
known exactly at the histogram edges (the counts below each edge) and nowhere else. The statistic
D is the largest gap between the two CDFs over those edges (P(X < e_i) for the inner edges and
the minimum, P(X <= max) at the maximum). It is therefore a lower bound of the full two-sample
statistic, exact for discrete features whose values sit on the edges; a shift that stays inside
one decile is missed here (and by PSI on the same bins). The p-value is the asymptotic
two-sample Kolmogorov distribution at sqrt(n m / (n + m)) D, computed in numpy; with D a lower
bound, the p-value errs high, so the test never reports drift that is not there.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from console.validation.checks import FAIL, PASS, WARN, Check, at_least, finite
from console.validation.data_details import DistributionTest, PopulationStability
from console.validation.reference import ColumnMeasure
from console.validation.thresholds import PSI_WARN

EPSILON = 1e-4
_Z99 = 2.3263478740408408  # the standard normal's 99% point
_TERMS = np.arange(1, 101, dtype=np.float64)


def psi(reference: NDArray[np.float64], actual: NDArray[np.float64]) -> float | None:
    """Population stability index of two count vectors over the same bins."""
    total_ref, total = float(reference.sum()), float(actual.sum())
    if total_ref <= 0 or total <= 0:
        return None
    expected = np.maximum(reference / total_ref, EPSILON)
    observed = np.maximum(actual / total, EPSILON)
    return float(np.sum((observed - expected) * np.log(observed / expected)))


def psi_noise(bins: int, n: int, m: int) -> float:
    """The PSI that sampling alone exceeds 1% of the time, for two samples of n and m rows."""
    if bins < 2 or n <= 0 or m <= 0:
        return 0.0
    df = bins - 1
    chi2_99 = df * (1.0 - 2.0 / (9.0 * df) + _Z99 * math.sqrt(2.0 / (9.0 * df))) ** 3
    return chi2_99 * (1.0 / n + 1.0 / m)


def kolmogorov_sf(x: float) -> float:
    """P(K > x) for the Kolmogorov distribution (the limit of sqrt(n) D_n)."""
    if not math.isfinite(x):
        return 0.0 if x > 0 else 1.0
    if x <= 0.0:
        return 1.0
    if x < 1.0:
        # Jacobi's form converges fast for small x: P(K <= x) = sqrt(2 pi)/x sum e^{-(2k-1)^2 pi^2 / 8x^2}
        odd = 2.0 * _TERMS - 1.0
        cdf = (
            math.sqrt(2.0 * math.pi)
            / x
            * float(np.sum(np.exp(-(odd**2) * math.pi**2 / (8.0 * x * x))))
        )
        return min(1.0, max(0.0, 1.0 - cdf))
    signs = np.where(_TERMS % 2 == 1, 1.0, -1.0)
    value = 2.0 * float(np.sum(signs * np.exp(-2.0 * _TERMS**2 * x * x)))
    return min(1.0, max(0.0, value))


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Asymptotic two-sample p-value of a KS statistic for sample sizes n and m."""
    if n <= 0 or m <= 0:
        return 1.0
    return kolmogorov_sf(math.sqrt(n * m / (n + m)) * statistic)


def numeric_bins(measure: ColumnMeasure) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Training and file counts on the PSI bins of a numeric feature."""
    ref, counts = measure.reference, measure.numeric
    assert counts is not None
    reference = np.asarray(ref.counts, dtype=np.float64)
    below, total = counts.below_edge, counts.finite
    if len(ref.edges) < 2 or reference.size == 0:
        return np.zeros(0), np.zeros(0)
    if ref.edges[0] == ref.edges[-1]:  # a constant training column
        at_value = total - below[0] - counts.above_max
        return (
            np.array([0.0, reference.sum(), 0.0]),
            np.array([below[0], at_value, counts.above_max], dtype=np.float64),
        )
    k = len(ref.edges) - 1
    # Outer bins open to -inf/+inf: bin 0 is everything below e_1, the last everything from e_k-1.
    cumulative = [0, *below[1:k], total]
    actual = np.diff(np.asarray(cumulative, dtype=np.float64))
    return reference, actual


def binned_ks(measure: ColumnMeasure) -> tuple[float, int, int] | None:
    """(D, training rows, file rows) over the training histogram's edges; None if undefined."""
    ref, counts = measure.reference, measure.numeric
    assert counts is not None
    n_ref, n = int(sum(ref.counts)), counts.finite
    if n_ref == 0 or n == 0 or len(ref.edges) < 2:
        return None
    below_ref = np.concatenate([[0.0], np.cumsum(ref.counts, dtype=np.float64)[:-1]]) / n_ref
    below_new = np.asarray(counts.below_edge[: len(ref.edges) - 1], dtype=np.float64) / n
    gaps = np.abs(below_new - below_ref[: below_new.size])
    at_max = counts.above_max / n  # P_ref(X <= max) = 1
    return float(max(float(gaps.max(initial=0.0)), at_max)), n_ref, n


def category_bins(
    measure: ColumnMeasure,
) -> tuple[list[str], NDArray[np.float64], NDArray[np.float64]]:
    """Bucket names, training counts and file counts: the profile's categories and "other"."""
    ref, counts = measure.reference, measure.categories
    assert counts is not None
    names = [*ref.frequencies, "(other)"]
    reference = np.asarray([*ref.frequencies.values(), ref.other_count], dtype=np.float64)
    actual = np.asarray(
        [*(counts.counts.get(k, 0) for k in ref.frequencies), counts.outside], dtype=np.float64
    )
    return names, reference, actual


def _psi_check(
    name: str,
    reference: NDArray[np.float64],
    actual: NDArray[np.float64],
    max_psi: float,
    bins: PopulationStability,
) -> Check:
    value = finite(psi(reference, actual)) if reference.size else None
    noise = psi_noise(reference.size, int(reference.sum()), int(actual.sum()))
    detail = replace(
        bins,
        rule="<=",
        reference_share=_shares(reference),
        share=_shares(actual),
        noise_99=noise,
    )
    if value is None:
        return Check(
            name, "drift", WARN, None, max_psi, replace(detail, note="no values to compare")
        )
    detail = replace(detail, note=f"PSI {value:.3f} (sampling noise up to {noise:.3f})")
    if value > max_psi:
        status = FAIL
    elif value > PSI_WARN and value > noise:
        status = WARN
    else:
        status = PASS
    return Check(name, "drift", status, value, max_psi, detail)


def _shares(counts: NDArray[np.float64]) -> list[float]:
    total = float(counts.sum())
    return [float(c) / total if total else 0.0 for c in counts]


def drift_checks(measures: list[ColumnMeasure], thresholds: dict[str, float]) -> list[Check]:
    """drift.psi.<feature> for every comparable feature, drift.ks.<feature> for numeric ones."""
    checks: list[Check] = []
    max_psi, min_p = thresholds["max_psi"], thresholds["max_ks_pvalue_fail"]
    for measure in measures:
        name = measure.name
        if measure.numeric is not None:
            reference, actual = numeric_bins(measure)
            checks.append(
                _psi_check(
                    f"drift.psi.{name}",
                    reference,
                    actual,
                    max_psi,
                    PopulationStability(kind="numeric", edges=measure.reference.edges),
                )
            )
            ks = binned_ks(measure)
            statistic, n_ref, n = ks if ks is not None else (None, 0, 0)
            p_value = ks_pvalue(statistic, n_ref, n) if statistic is not None else None
            note = (
                f"D {statistic:.3f}, p {p_value:.2g}"
                if statistic is not None and p_value is not None
                else "no values to compare"
            )
            checks.append(
                at_least(
                    f"drift.ks.{name}",
                    "drift",
                    p_value,
                    min_p,
                    DistributionTest(
                        statistic=statistic,
                        p_value=p_value,
                        reference_rows=n_ref,
                        rows=n,
                        points=len(measure.reference.edges),
                        note=note,
                    ),
                )
            )
        elif measure.categories is not None:
            names, reference, actual = category_bins(measure)
            checks.append(
                _psi_check(
                    f"drift.psi.{name}",
                    reference,
                    actual,
                    max_psi,
                    PopulationStability(kind="categorical", categories=names),
                )
            )
    return checks
