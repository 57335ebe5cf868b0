"""The live preview: the page's own form and the detail page's templates, rendered by the server."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments import rules
from assessments.models import Assessment
from tests.factories import PANEL, record, ruleset_1_assessment

pytestmark = pytest.mark.django_db

RULE_INPUTS = {
    "tumor_size_cm": "6.0",
    "tumor_count": "1",
    "vascular_invasion": "none",
    "cirrhosis_grade": "none",
}


@pytest.mark.parametrize("page", ["create", "edit", "reevaluate"])
def test_every_assessment_form_has_the_preview_as_a_file(clinician_client, clinician, page):
    assessment = ruleset_1_assessment(clinician)
    args = [] if page == "create" else [assessment.pk]
    html = clinician_client.get(reverse(f"assessments:{page}", args=args)).content.decode()
    url = reverse(
        "assessments:preview" if page == "create" else f"assessments:{page}_preview", args=args
    )
    assert f'data-preview-url="{url}"' in html
    assert '<div id="preview" aria-live="polite" data-state="idle">' in html
    assert "<script>" not in html  # no inline script: the preview is an optional file
    assert 'src="/static/js/preview.js"' in html


def preview(client, data, url=None):
    response = client.post(url or reverse("assessments:preview"), data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    return response


def summary(form) -> list[tuple[str, list[str]]]:
    return [(field.label, list(field.errors)) for field in form.fields_with_errors()]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"tumor_size_cm": "5.05", "tumor_count": "0"},
        {**RULE_INPUTS, "bilirubin": "20"},
        {**RULE_INPUTS, **PANEL, "albumin": "7", "mrn": "not an mrn!"},
    ],
)
def test_the_preview_names_the_fields_the_error_summary_names(clinician_client, data):
    saved = clinician_client.post(reverse("assessments:create"), data)
    answer = preview(clinician_client, data)
    expected = summary(saved.context["form"])
    assert summary(answer.context["form"]) == expected
    html = answer.content.decode()
    count = len(expected)
    assert f"{count} field{'s' if count > 1 else ''} still missing or invalid:" in html
    for label, errors in expected:
        assert f">{label}</a>: {' '.join(errors)}</li>" in html.replace("&#x27;", "'")
    assert not Assessment.objects.exists()


def test_the_result_shows_once_the_rule_inputs_are_valid(clinician_client):
    html = preview(clinician_client, RULE_INPUTS).content.decode()
    assert '<div data-state="result" data-recommendation="recommended">' in html
    assert "Adjuvant TACE recommended" in html
    # The MRN and the date are still missing, and said so beside the result.
    assert "2 fields still missing or invalid:" in html
    assert ">MRN (medical record number)</a>" in html and ">Date of resection</a>" in html


def test_the_preview_is_the_detail_pages_result_card(clinician_client, valid_data):
    data = {**valid_data, **PANEL, "ascites": "none"}  # Child-Pugh B8: TACE ruled out
    answer = preview(clinician_client, data)
    clinician_client.post(reverse("assessments:create"), data)
    saved = Assessment.objects.get()
    shown = answer.context["assessment"]
    for name in [*Assessment.RESULT, "rationale", *Assessment.LIVER_FUNCTION]:
        assert getattr(shown, name) == getattr(saved, name), name
    detail = clinician_client.get(saved.get_absolute_url()).content.decode()
    html = answer.content.decode()
    # Each sentence once: the codes' in their lists, then the outcome.
    for sentence in saved.rationale:
        assert html.count(f">{sentence}</") == 1 and detail.count(f">{sentence}</") == 1
    assert f'<p class="mb-0" data-outcome>{saved.rationale[-1]}</p>' in detail
    assert "Child-Pugh 8 (class B); ALBI -1.761 (grade 2)" in html
    assert "Child-Pugh 8 (class B); ALBI -1.761 (grade 2)" in detail
    assert 'class="card result-card result-not_recommended"' in html


def test_the_preview_shows_the_first_session_window(clinician_client, valid_data):
    resected = timezone.localdate() - timedelta(days=7)
    data = {**valid_data, "resection_date": resected.isoformat()}
    html = preview(clinician_client, data).content.decode()
    start = resected + timedelta(days=rules.FIRST_SESSION_WINDOW_DAYS[0])
    assert f"First session window: <strong>{start:%-d %b %Y}" in html
    assert "had passed" not in html


def test_an_mrn_with_assessments_says_how_many_and_links_the_patient(clinician_client, clinician):
    record(clinician, mrn="KNOWN-1")
    latest = record(clinician, mrn="KNOWN-1")
    html = preview(clinician_client, {"mrn": "known-1"}).content.decode()
    day = timezone.localtime(latest.created_at)
    assert f"This patient has 2 assessments, the latest on {day:%-d %b %Y}." in html
    assert f'href="{latest.patient.get_absolute_url()}"' in html
    assert "This patient has" not in preview(clinician_client, {"mrn": "NEW-1"}).content.decode()


@pytest.mark.parametrize(
    ("panel", "shown"),
    [
        ({"bilirubin": "2.5", "bilirubin_unit": "umol_l"}, "2.5 µmol/L = 0.15 mg/dL"),
        ({"bilirubin": "3.0", "bilirubin_unit": "mg_dl"}, "3 mg/dL = 51.3 µmol/L"),
        ({"albumin": "35", "albumin_unit": "g_l"}, "35 g/L = 3.5 g/dL"),
        ({"albumin": "3.4", "albumin_unit": "g_dl"}, "3.4 g/dL = 34 g/L"),
    ],
)
def test_a_lab_value_is_shown_in_the_other_unit_as_it_is_typed(clinician_client, panel, shown):
    # Typed alone: the rest of the panel is still missing, the conversion shows already.
    name = next(iter(panel))
    html = preview(clinician_client, panel).content.decode()
    assert f'<span data-beside="id_{name}">{shown}</span>' in html


def test_no_conversion_without_a_lab_value(clinician_client):
    assert "data-beside" not in preview(clinician_client, RULE_INPUTS).content.decode()


def amend_data(assessment, **changes):
    return {
        "resection_date": str(assessment.resection_date),
        "tumor_size_cm": str(assessment.tumor_size_cm),
        "tumor_count": str(assessment.tumor_count),
        "vascular_invasion": assessment.vascular_invasion,
        "cirrhosis_grade": assessment.cirrhosis_grade,
        "prior_adjuvant_tace_sessions": str(assessment.prior_adjuvant_tace_sessions),
        "version": str(assessment.version),
        **changes,
    }


def test_the_amend_preview_says_when_the_recommendation_would_change(clinician_client, clinician):
    assessment = record(clinician, tumor_size_cm="5.1")
    url = reverse("assessments:edit_preview", args=[assessment.pk])
    html = preview(clinician_client, amend_data(assessment, tumor_size_cm="5.0"), url)
    html = html.content.decode()
    assert "This changes the recommendation from Recommended to Not recommended." in html
    # The reason is still missing: the page's own form says so, as its summary would.
    assert ">Reason for change</a>: Give a reason: it is kept in the audit trail.</li>" in html
    same = preview(clinician_client, amend_data(assessment, tumor_size_cm="5.2"), url)
    assert "This changes the recommendation" not in same.content.decode()
    assert Assessment.objects.get().tumor_size_cm == Decimal("5.1")


def test_the_amend_preview_of_a_ruleset_1_assessment_uses_ruleset_1(clinician_client, clinician):
    assessment = ruleset_1_assessment(clinician)
    url = reverse("assessments:edit_preview", args=[assessment.pk])
    answer = preview(
        clinician_client, amend_data(assessment, vascular_invasion="portal_vein_main"), url
    )
    assert [f.name for f in answer.context["form"].fields_with_errors()] == [
        "vascular_invasion",
        "change_reason",
    ]
    assert "assessment" not in answer.context


def test_the_reevaluate_preview_scores_the_panel_under_the_newest_ruleset(
    clinician_client, clinician
):
    assessment = ruleset_1_assessment(clinician, tumor_size_cm=Decimal("6.0"))
    url = reverse("assessments:reevaluate_preview", args=[assessment.pk])
    data = amend_data(
        assessment, **{**PANEL, "albumin": "2.0", "inr": "2.5", "ascites": "moderate_severe"}
    )
    answer = preview(clinician_client, data, url)
    assert answer.context["assessment"].ruleset == rules.LATEST_RULESET
    assert answer.context["assessment"].child_pugh_class == "C"
    html = answer.content.decode()
    assert "This changes the recommendation from Recommended to Not recommended." in html


def test_amend_previews_are_for_clinicians_only(reviewer_client, clinician):
    assessment = record(clinician)
    url = reverse("assessments:edit_preview", args=[assessment.pk])
    assert reviewer_client.post(url, amend_data(assessment)).status_code == 403
