"""The training frame and estimators the registration-session tests share (one copy, not three)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression


def churn_frame(rows: int = 120, seed: int = 7) -> pd.DataFrame:
    """Three numeric features and a 0/1 label that follows the first."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 3)), columns=["a", "b", "c"])
    frame["label"] = (frame["a"] + rng.normal(scale=0.3, size=rows) > 0).astype(int)
    return frame


def fitted(frame: pd.DataFrame, c: float = 1.0) -> LogisticRegression:
    """A logistic regression on the frame; each `c` gives another artifact."""
    return LogisticRegression(C=c).fit(frame.drop(columns="label"), frame["label"])
