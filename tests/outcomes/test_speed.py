"""After a change of the record the page reads again only the patients it changed, and
fits again only the groups whose figures it changed; the result is that of a full read."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from assessments import queries, services
from followup import services as followup_services
from outcomes import report as outcomes
from outcomes import views
from tests.factories import record
from tests.outcomes.test_outcomes import COHORT, COPIES, HIGH, RESECTED, TODAY, event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_fits_kept():
    outcomes._fits.clear()
    yield
    outcomes._fits.clear()


@pytest.fixture
def made(clinician):
    made = {}
    for copy in range(COPIES):
        for name, (size, happened) in COHORT.items():
            assessment = record(
                clinician,
                mrn=f"SP-{name}-{copy}",
                tumor_size_cm=size,
                resection_date=RESECTED.isoformat(),
            )
            for kind, days in happened:
                event(assessment, kind, days)
            made[f"{name}-{copy}"] = assessment
    return made


def full_report(frame):
    return outcomes.report(filters=outcomes.Filters(), today=TODAY, frame=frame)


def test_a_change_reads_again_only_its_patients_and_gives_a_full_reads_figures(
    made, clinician, monkeypatch
):
    version = queries.record_version()
    views._frame(version)
    followup_services.record_event(
        patient=made["L6-1"].patient,
        kind="no_recurrence",
        data={"date": TODAY},
        user=clinician,
    )
    services.void_assessment(
        assessment=made["H5-0"], user=clinician, reason="Wrong patient", version=1
    )
    event(made["H2-2"], "recurrence", 250)
    again = record(
        clinician,
        mrn="SP-L1-3",
        tumor_size_cm=HIGH,
        resection_date=(RESECTED + timedelta(days=300)).isoformat(),
    )
    changed = {made[name].patient_id for name in ("L6-1", "H5-0", "H2-2", "L1-3")}
    assert again.patient_id == made["L1-3"].patient_id
    assert outcomes.changed_patients(views._marks(version)) == changed

    read = []
    monkeypatch.setattr(views, "REREAD_IDS", 0)
    load_frame = outcomes.load_frame
    monkeypatch.setattr(
        outcomes, "load_frame", lambda patients=None: read.append(patients) or load_frame(patients)
    )
    updated = views._frame(queries.record_version())
    assert read == [sorted(changed)]
    assert full_report(updated) == full_report(load_frame())


def test_a_change_outside_a_group_does_not_fit_it_again(made, monkeypatch):
    fitted = []
    fit = outcomes._time_varying_hr
    monkeypatch.setattr(
        outcomes, "_time_varying_hr", lambda counted: fitted.append(counted) or fit(counted)
    )
    monkeypatch.setattr(outcomes, "MIN_PATIENTS", 1)  # the cohort is small
    first = full_report(outcomes.load_frame())
    assert first.by_tace.cox_hr is not None
    assert len(fitted) == 1
    # A low-risk patient seen again: not in the TACE cohort (high risk only).
    event(made["L2-0"], "no_recurrence", 600)
    second = full_report(outcomes.load_frame())
    assert len(fitted) == 1
    assert second.by_risk != first.by_risk
    assert second.by_tace == first.by_tace
    # A high-risk patient seen again: the cohort changed, fitted again.
    event(made["H5-0"], "no_recurrence", 600)
    full_report(outcomes.load_frame())
    assert len(fitted) == 2


def test_a_write_committed_after_a_later_one_is_read_again(made, clinician):
    """History ids are drawn at the write, not at the commit: a frame read at a version
    may miss a write of a lower id, committed after it."""
    views._frame(queries.record_version())
    stale = outcomes.load_frame()
    # Patient L6-1's event, written before a later id but committed after the frame
    # was read at that later version: the frame does not have it.
    followup_services.record_event(
        patient=made["L6-1"].patient, kind="no_recurrence", data={"date": TODAY}, user=clinician
    )
    event(made["L6-2"], "no_recurrence", 30)
    from django.core.cache import cache

    cache.set(views.FRAME_KEY, (queries.record_version(), stale))
    event(made["L6-3"], "no_recurrence", 30)
    updated = views._frame(queries.record_version())
    assert full_report(updated) == full_report(outcomes.load_frame())


@pytest.mark.parametrize(
    "module, imported",
    [("tace_site.wsgi", True), ("tace_site.urls", False)],
    ids=["a server worker", "a command or test"],
)
def test_the_pages_libraries_are_imported_as_a_server_worker_starts(module, imported):
    """A worker imports lifelines and matplotlib as it loads the site's WSGI module, so
    the page's first request does not wait for them; commands and tests do not."""
    probe = (
        "import importlib, sys, django; django.setup(); importlib.import_module(sys.argv[1]); "
        "print('lifelines' in sys.modules, 'matplotlib.figure' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "tace_site.settings"}
    result = subprocess.run(
        [sys.executable, "-c", probe, module], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(imported)] * 2
