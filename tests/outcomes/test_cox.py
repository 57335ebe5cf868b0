"""The Cox model of one binary covariate (outcomes.cox) against lifelines' fitters on
the same subjects, one row each (no weights): the same estimate and interval, with
ties, entry times (the time-varying model's rows) and weights standing for subjects."""

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, CoxTimeVaryingFitter

from outcomes import cox


def _subjects(seed, n=400, effect=0.7):
    """n subjects, follow-up in whole days (many ties), half given the covariate."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    days = np.ceil(rng.exponential(300 / np.exp(effect * x))).astype(float)
    censored_at = np.ceil(rng.uniform(30, 900, n))
    return pd.DataFrame(
        {
            "stop": np.minimum(days, censored_at),
            "event": (days <= censored_at).astype(int),
            "x": x,
        }
    )


def _lifelines_ratio(summary, name):
    row = summary.loc[name]
    return row["exp(coef)"], row["exp(coef) lower 95%"], row["exp(coef) upper 95%"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_as_lifelines_cox_with_ties(seed):
    data = _subjects(seed)
    expected = _lifelines_ratio(CoxPHFitter().fit(data, "stop", "event").summary, "x")
    got = cox.fit(
        start=np.zeros(len(data)),
        stop=data["stop"],
        event=data["event"],
        covariate=data["x"],
        weight=np.ones(len(data)),
    )
    assert (got.ratio, got.lower, got.upper) == pytest.approx(expected, rel=1e-6)
    assert got.ratio > 1


@pytest.mark.parametrize("seed", [4, 5])
def test_as_lifelines_time_varying_cox(seed):
    """Each subject's follow-up split at a day drawn between 28 and 84 (as a session):
    untreated before it, treated after; subjects whose follow-up ends first stay
    untreated."""
    rng = np.random.default_rng(seed)
    data = _subjects(seed, n=300).drop(columns="x")
    switch = rng.integers(28, 85, len(data)).astype(float)
    given = (rng.random(len(data)) < 0.6) & (switch < data["stop"])
    rows = []
    for i, (stop, event, at, on) in enumerate(
        zip(data["stop"], data["event"], switch, given, strict=True)
    ):
        if on:
            rows += [(i, 0.0, at, 0, 0), (i, at, stop, 1, event)]
        else:
            rows.append((i, 0.0, stop, 0, event))
    rows = pd.DataFrame(rows, columns=["id", "start", "stop", "tace", "event"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter = CoxTimeVaryingFitter().fit(
            rows, id_col="id", event_col="event", start_col="start", stop_col="stop"
        )
    expected = _lifelines_ratio(fitter.summary, "tace")
    got = cox.fit(
        start=rows["start"],
        stop=rows["stop"],
        event=rows["event"],
        covariate=rows["tace"],
        weight=np.ones(len(rows)),
    )
    assert (got.ratio, got.lower, got.upper) == pytest.approx(expected, rel=1e-6)


def test_a_weight_stands_for_that_many_subjects():
    data = _subjects(6)
    one_each = cox.fit(
        start=np.zeros(len(data)),
        stop=data["stop"],
        event=data["event"],
        covariate=data["x"],
        weight=np.ones(len(data)),
    )
    counted = data.groupby(["stop", "event", "x"]).size().rename("weight").reset_index()
    assert len(counted) < len(data)  # ties were folded together
    weighted = cox.fit(
        start=np.zeros(len(counted)),
        stop=counted["stop"],
        event=counted["event"],
        covariate=counted["x"],
        weight=counted["weight"],
    )
    assert (weighted.ratio, weighted.lower, weighted.upper) == pytest.approx(
        (one_each.ratio, one_each.lower, one_each.upper), rel=1e-12
    )


def test_no_finite_estimate_without_an_event_in_a_group():
    stop = np.array([5.0, 8, 9, 12, 14, 20])
    got = cox.fit(
        start=np.zeros(6),
        stop=stop,
        event=[1, 1, 1, 0, 0, 0],
        covariate=[0, 0, 0, 1, 1, 1],
        weight=np.ones(6),
    )
    assert got is None
    assert cox.fit(start=[0], stop=[3], event=[0], covariate=[1], weight=[1]) is None


def test_weights_must_be_whole_subjects():
    with pytest.raises(ValueError):
        cox.fit(start=[0, 0], stop=[3, 4], event=[1, 1], covariate=[0, 1], weight=[0.5, 1])
