"""Follow-up events: each kind's checks, amendment and voiding with history, the audit
chain, the timeline, the prior sessions filled in, and the worklist's "due"."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import queries, services
from assessments.models import Assessment, FollowUpEvent
from followup import services as followup_services
from followup.forms import EVENT_FORMS
from tests.factories import events, record

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
RESECTED = TODAY - timedelta(days=100)
RECOMMENDED = {"tumor_size_cm": "6.0", "resection_date": RESECTED.isoformat()}


def day(offset: int) -> str:
    """A date relative to the resection."""
    return (RESECTED + timedelta(days=offset)).isoformat()


@pytest.fixture
def assessment(clinician):
    return record(clinician, **RECOMMENDED)


def form(kind, patient, event=None, **data):
    return EVENT_FORMS[kind](data=data, patient=patient, event=event)


def add(user, assessment, kind, **data):
    """An event recorded through its form and the service, as the page records it."""
    if kind == "tace_session":
        data = {"assessment": assessment.pk, "complications": "none", **data}
    bound = form(kind, assessment.patient, **data)
    assert bound.is_valid(), bound.errors
    return followup_services.record_event(
        patient=assessment.patient, kind=kind, data=bound.cleaned_data, user=user
    )


# Each kind's checks, naming the field


SESSION = {"complications": "minor"}
KINDS = {
    "tace_session": SESSION,
    "recurrence": {"recurrence_site": "intrahepatic", "found_by": "imaging"},
    "no_recurrence": {},
    "death": {"death_cause": "hcc"},
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("offset", "error"),
    [
        (-1, "This is before the resection"),
        (0, "confirm"),  # the day of the resection itself: confirmed, then accepted
        (100, None),  # today
        (101, "The date cannot be in the future."),
    ],
)
def test_the_date_of_every_kind(assessment, kind, offset, error):
    data = {**KINDS[kind], "date": day(offset)}
    if kind == "tace_session":
        data["assessment"] = assessment.pk
    bound = form(kind, assessment.patient, **data)
    assert bound.is_valid() is (error is None)
    if error == "confirm":
        assert list(bound.errors) == ["surgery_day_confirmed"]
        assert "is the day of a resection: tick the box" in bound.errors["surgery_day_confirmed"][0]
        data["surgery_day_confirmed"] = "on"
        assert form(kind, assessment.patient, **data).is_valid()
    elif error:
        assert list(bound.errors) == ["date"]
        assert bound.errors["date"][0].startswith(error)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_requires_its_own_fields(assessment, kind):
    bound = form(kind, assessment.patient, date=day(10))
    expected = {
        "tace_session": {"complications"},  # the assessment is chosen for the clinician
        "recurrence": {"recurrence_site", "found_by"},
        "no_recurrence": set(),
        "death": {"death_cause"},
    }[kind]
    if kind == "tace_session":
        bound = form(kind, assessment.patient, date=day(10), assessment="")
        expected = {"assessment", "complications"}
    assert set(bound.errors) == expected


@pytest.mark.parametrize(("offset", "valid"), [(30, True), (31, False)])
def test_no_event_after_a_death(clinician, assessment, offset, valid):
    add(clinician, assessment, "death", date=day(30), death_cause="liver_failure")
    bound = form("no_recurrence", assessment.patient, date=day(offset))
    assert bound.is_valid() is valid
    if not valid:
        assert "death is recorded on" in bound.errors["date"][0]


def test_one_death_and_none_before_a_recorded_event(clinician, assessment):
    add(clinician, assessment, "no_recurrence", date=day(60))
    early = form("death", assessment.patient, date=day(59), death_cause="other")
    assert "An event is recorded on" in early.errors["date"][0]
    add(clinician, assessment, "death", date=day(60), death_cause="other")
    again = form("death", assessment.patient, date=day(70), death_cause="other")
    assert "A death is already recorded" in again.errors["date"][0]


def test_a_session_follows_an_assessment_of_that_patient(clinician, assessment):
    later = record(clinician, **{**RECOMMENDED, "resection_date": day(20)})
    other = record(clinician, mrn="OTHER-1")
    refused = form("tace_session", assessment.patient, date=day(30), assessment=other.pk, **SESSION)
    assert list(refused.errors) == ["assessment"]
    assert refused.errors["assessment"] == ["Choose one of this patient's assessments."]
    early = form("tace_session", assessment.patient, date=day(19), assessment=later.pk, **SESSION)
    assert list(early.errors) == ["date"]
    assert early.errors["date"][0].startswith("A session follows its assessment's resection")
    on_the_day = form(
        "tace_session",
        assessment.patient,
        date=day(20),
        assessment=later.pk,
        surgery_day_confirmed="on",
        **SESSION,
    )
    assert on_the_day.is_valid()


def test_a_voided_assessment_is_not_offered_and_a_voided_death_no_longer_counts(
    clinician, assessment
):
    voided = record(clinician, **RECOMMENDED)
    services.void_assessment(assessment=voided, user=clinician, reason="Duplicate entry", version=1)
    offered = form("tace_session", assessment.patient).fields["assessment"].queryset
    assert list(offered) == [assessment]
    death = add(clinician, assessment, "death", date=day(30), death_cause="unknown")
    followup_services.void_event(event=death, user=clinician, reason="Wrong patient", version=1)
    assert form("no_recurrence", assessment.patient, date=day(40)).is_valid()


# History, amendment, voiding, the chain


def test_amend_and_void_keep_every_version_with_who_and_why(clinician, other_clinician, assessment):
    event = add(clinician, assessment, "recurrence", **KINDS["recurrence"], date=day(50))
    bound = form(
        "recurrence",
        assessment.patient,
        event=event,
        date=day(52),
        recurrence_site="both",
        found_by="afp",
        change_reason="Date from the imaging report",
        version=1,
    )
    assert bound.is_valid(), bound.errors
    followup_services.amend_event(
        event=event,
        data=bound.cleaned_data,
        user=other_clinician,
        reason=bound.cleaned_data["change_reason"],
        version=1,
    )
    with pytest.raises(services.StaleVersion):
        followup_services.void_event(event=event, user=clinician, reason="Entered twice", version=1)
    followup_services.void_event(event=event, user=clinician, reason="Entered twice", version=2)
    with pytest.raises(services.NotAllowed):
        followup_services.amend_event(
            event=event, data={"date": RESECTED}, user=clinician, reason="x" * 5, version=3
        )
    rows = list(event.history.order_by("history_id"))
    assert [(r.action, r.history_user, r.history_change_reason) for r in rows] == [
        ("created", clinician, None),
        ("amended", other_clinician, "Date from the imaging report"),
        ("voided", clinician, "Entered twice"),
    ]
    assert [(r.date.isoformat(), r.recurrence_site, r.status) for r in rows] == [
        (day(50), "intrahepatic", "recorded"),
        (day(52), "both", "recorded"),
        (day(52), "both", "voided"),
    ]
    assert FollowUpEvent.objects.filter(pk=event.pk).exists()  # voided, never deleted


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
        return 0, out.getvalue()
    except SystemExit as exit:
        return exit.code, out.getvalue()


def test_events_are_sealed_into_the_chain_and_tampering_is_found(clinician, assessment):
    event = add(clinician, assessment, "tace_session", date=day(35))
    row = event.history.get()
    seal = events("record_changed")[-1]
    assert (seal.object_type, seal.object_id) == ("historicalfollowupevent", str(row.pk))
    assert seal.patient == assessment.patient
    assert verify()[0] == 0
    with connection.cursor() as cursor:  # the record changed below the app
        cursor.execute(
            "UPDATE assessments_followupevent SET date = %s WHERE id = %s", [day(5), event.pk]
        )
    code, out = verify()
    assert code == 1
    assert f"followupevent {event.pk}: it differs from its newest history row" in out


def test_events_are_never_deleted_even_below_the_app(clinician, assessment):
    event = add(clinician, assessment, "no_recurrence", date=day(10))
    with pytest.raises(Exception, match="never deleted"):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM assessments_followupevent WHERE id = %s", [event.pk])


# The pages


def test_recording_from_the_patient_page(clinician_client, clinician, assessment):
    page = clinician_client.get(assessment.patient.get_absolute_url()).content.decode()
    url = reverse("assessments:event_create", args=[assessment.patient.pk, "tace_session"])
    assert f'href="{url}"' in page
    response = clinician_client.post(
        url, {"date": day(33), "assessment": assessment.pk, "complications": "none"}
    )
    assert (
        response.status_code == 302
        and response["Location"] == assessment.patient.get_absolute_url()
    )
    event = FollowUpEvent.objects.get()
    assert (event.kind, event.assessment, event.created_by) == (
        "tace_session",
        assessment,
        clinician,
    )
    refused = clinician_client.post(url, {"date": day(101), "assessment": assessment.pk})
    assert refused.status_code == 200
    assert "The date cannot be in the future." in refused.content.decode()
    assert FollowUpEvent.objects.count() == 1
    assert (
        clinician_client.get(
            reverse("assessments:event_create", args=[assessment.patient.pk, "nonsense"])
        ).status_code
        == 404
    )


def test_the_timeline_in_date_order(reviewer_client, clinician, assessment):
    visit = add(clinician, assessment, "no_recurrence", date=day(90))
    session = add(clinician, assessment, "tace_session", date=day(30))
    second = record(clinician, **{**RECOMMENDED, "resection_date": day(60)})
    response = reviewer_client.get(assessment.patient.get_absolute_url())
    assert response.context["timeline"] == [assessment, session, second, visit]
    html = response.content.decode()
    assert html.index(session.get_absolute_url()) < html.index(visit.get_absolute_url())
    # Reviewers read the record but do not add to it.
    assert "Record follow-up" not in html


def test_the_event_page_shows_its_history_and_is_audited(reviewer_client, clinician, assessment):
    event = add(clinician, assessment, "death", date=day(40), death_cause="hcc", notes="At home")
    html = reviewer_client.get(event.get_absolute_url()).content.decode()
    assert "Cause: HCC" in html and "At home" in html and "Created" in html
    viewed = events("view_event")[-1]
    assert (viewed.object_id, viewed.patient) == (str(event.pk), assessment.patient)


def test_a_form_filled_in_for_a_patient_is_never_served_from_the_cache(clinician_client, clinician):
    first, second = record(clinician, mrn="CACHE-1"), record(clinician, mrn="CACHE-2")
    create = reverse("assessments:create")
    assert (
        'value="CACHE-1"'
        in clinician_client.get(create, {"patient": first.patient.pk}).content.decode()
    )
    html = clinician_client.get(create, {"patient": second.patient.pk}).content.decode()
    assert 'value="CACHE-2"' in html and "CACHE-1" not in html
    assert "CACHE-" not in clinician_client.get(create).content.decode()


def test_prior_sessions_filled_in_from_the_record(clinician_client, clinician, assessment):
    create = reverse("assessments:create")
    none_yet = clinician_client.get(create, {"patient": assessment.patient.pk})
    assert none_yet.context["form"]["prior_adjuvant_tace_sessions"].value() is None  # none
    add(clinician, assessment, "tace_session", date=day(30))
    voided = add(clinician, assessment, "tace_session", date=day(31))
    followup_services.void_event(event=voided, user=clinician, reason="Entered twice", version=1)
    add(clinician, assessment, "tace_session", date=day(80))
    response = clinician_client.get(create, {"patient": assessment.patient.pk})
    field = response.context["form"]["prior_adjuvant_tace_sessions"]
    assert field.value() == 2
    assert "Filled in from the 2 adjuvant TACE sessions recorded for this patient" in (
        response.content.decode()
    )


def test_an_assessment_leaves_due_when_its_session_is_recorded_and_returns_if_voided(clinician):
    resected = TODAY - timedelta(days=30)
    due = record(clinician, **{**RECOMMENDED, "resection_date": resected.isoformat()})
    assert list(queries.due_for_tace(today=TODAY)) == [due]
    session = add(clinician, due, "tace_session", date=TODAY.isoformat())
    assert list(queries.due_for_tace(today=TODAY)) == []
    followup_services.void_event(event=session, user=clinician, reason="Wrong patient", version=1)
    assert list(queries.due_for_tace(today=TODAY)) == [due]
    # A recurrence-free visit is not a session.
    add(clinician, due, "no_recurrence", date=TODAY.isoformat())
    assert list(queries.due_for_tace(today=TODAY)) == [due]


def test_patient_page_queries_do_not_grow_with_the_events(reviewer_client, clinician, assessment):
    def count() -> int:
        url = assessment.patient.get_absolute_url()
        reviewer_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert reviewer_client.get(url).status_code == 200
        return len(captured.captured_queries)

    for number in range(5):
        add(clinician, assessment, "tace_session", date=day(number + 1))
    few = count()
    for number in range(195):
        kind = ["tace_session", "no_recurrence", "recurrence"][number % 3]
        add(clinician, assessment, kind, **KINDS[kind], date=day(number % 100 + 1))
    assert FollowUpEvent.objects.count() == 200
    assert count() == few


# Pathology: recorded, not scored (ruleset 4 names it, and changes no recommendation)


PATHOLOGY = {
    "vascular_invasion": "microvascular",  # as the MVI grade says (ruleset 4 checks it)
    "resection_margin": "r1",
    "satellite_nodules": "yes",
    "mvi_grade": "m2",
    "afp_before_ng_ml": "1250.5",
    "afp_after_ng_ml": "8",
    "tumor_rupture": "yes",
}


@pytest.mark.parametrize("inputs", [{}, {"tumor_size_cm": "6.0"}, {"tumor_count": "3"}])
def test_pathology_changes_no_recommendation(clinician, inputs):
    plain = record(clinician, **inputs, vascular_invasion="microvascular")
    findings = record(clinician, **inputs, **PATHOLOGY)
    for name in ["ruleset", "recommendation", "risk_level", "risk_factors", "contraindications"]:
        assert getattr(findings, name) == getattr(plain, name), name
    assert findings.cautions == [*plain.cautions, "adverse_pathology"]
    assert findings.pathology_findings == [
        "r1_margin",
        "satellite_nodules",
        "tumor_rupture",
        "mvi_m2",
    ]  # AFP 8 ng/mL after surgery has normalised
    assert (findings.mvi_grade, str(findings.afp_before_ng_ml)) == ("m2", "1250.5")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("mvi_grade", "m3", "Choose one of: m0, m1, m2."),
        ("afp_before_ng_ml", "-1", "Enter a value between 0 and 1000000 ng/mL."),
        ("afp_after_ng_ml", "1,5", "Use a decimal point, not a comma: enter 1.5, not 1,5."),
        ("afp_after_ng_ml", "1.25", "Enter AFP with at most one decimal place."),
        ("resection_margin", "wide", "Choose one of: ge_1cm, lt_1cm, r1."),
    ],
)
def test_pathology_input_errors_name_the_field(clinician_client, valid_data, name, value, message):
    response = clinician_client.post(reverse("assessments:create"), {**valid_data, name: value})
    assert response.status_code == 200
    assert response.context["form"].errors[name] == [message]
    assert not Assessment.objects.exists()


def test_pathology_in_the_detail_page_history_export_and_api(
    consultant_client, clinician, other_clinician
):
    assessment = record(clinician, **PATHOLOGY)
    html = consultant_client.get(assessment.get_absolute_url()).content.decode()
    assert "read by the rules: adverse findings are named in the advice" in html
    assert "Involved (R1)" in html and "1250.5 ng/mL" in html
    exported = consultant_client.get(reverse("assessments:export")).content.decode()
    header, row = list(csv.reader(io.StringIO(exported)))[:2]
    assert row[header.index("MVI grade")] == "M2: more than 5, or beyond 1 cm"
    assert row[header.index("AFP before surgery (ng/mL)")] == "1250.5"
    data = consultant_client.get(reverse("api:assessment", args=[assessment.pk])).json()
    assert (data["mvi_grade"], data["afp_after_ng_ml"], data["tumor_rupture"]) == (
        "m2",
        "8.0",
        "yes",
    )
