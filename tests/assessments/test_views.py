import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from assessments import rules
from assessments.models import Assessment, Patient
from tests.factories import PANEL, record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/", "/assessments/", "/assessments/new/", "/assessments/1/", "/patients/1/"],
)
def test_anonymous_users_are_sent_to_login(client, url):
    response = client.get(url, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert response.status_code == 200


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_logout_is_post_only(clinician_client):
    assert clinician_client.get(reverse("logout")).status_code == 405
    assert clinician_client.post(reverse("logout")).status_code == 302
    assert clinician_client.get("/assessments/").status_code == 302


def test_valid_post_creates_one_assessment(clinician_client, clinician, valid_data):
    response = clinician_client.post(reverse("assessments:create"), valid_data)
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == assessment.get_absolute_url()
    assert assessment.patient.mrn == "MRN-0001"
    assert assessment.tumor_size_cm == Decimal("5.1")
    assert assessment.created_by == clinician
    assert assessment.ruleset == "4"
    assert assessment.recommendation == "recommended"
    assert assessment.risk_level == "high"
    assert assessment.risk_factors == ["tumor_gt_5cm"]
    assert assessment.contraindications == []
    assert assessment.cautions == ["liver_panel_missing"]
    assert len(assessment.rationale) == 3  # the factor, the missing panel, the outcome


def test_second_assessment_reuses_the_patient(clinician_client, valid_data):
    clinician_client.post(reverse("assessments:create"), valid_data)
    clinician_client.post(
        reverse("assessments:create"),
        {**valid_data, "mrn": "Mrn-0001", "confirm_duplicate": "possible_duplicate"},
    )
    assert Patient.objects.count() == 1
    assert Assessment.objects.count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mrn", ""),
        ("mrn", "bad mrn"),
        ("resection_date", "2999-01-01"),
        ("resection_date", "yesterday"),
        ("tumor_size_cm", "5.05"),
        ("tumor_size_cm", "0"),
        ("tumor_count", "many"),
        ("vascular_invasion", "gross"),
        ("cirrhosis_grade", ""),
        ("prior_adjuvant_tace_sessions", "11"),
        ("notes", "x" * 5001),
    ],
)
def test_invalid_post_saves_nothing_and_shows_the_error_by_the_field(
    clinician_client, valid_data, field, value
):
    response = clinician_client.post(reverse("assessments:create"), {**valid_data, field: value})
    assert response.status_code == 200
    assert Assessment.objects.count() == 0
    assert Patient.objects.count() == 0
    assert list(response.context["form"].errors) == [field]
    html = response.content.decode()
    assert f'id="error_1_id_{field}"' in html
    # What was typed is kept.
    assert f'value="{valid_data["mrn"]}"' in html or field == "mrn"


def test_detail_page_shows_the_result(clinician_client, clinician):
    resected = timezone.localdate() - timedelta(days=60)
    assessment = record(
        clinician,
        tumor_size_cm="6.0",
        tumor_count="2",
        cirrhosis_grade="moderate",
        resection_date=resected.isoformat(),
    )
    response = clinician_client.get(assessment.get_absolute_url())
    html = response.content.decode()
    assert 'data-recommendation="recommended"' in html
    assert 'data-risk-level="high"' in html
    assert "Adjuvant TACE recommended" in html
    assert 'data-code="tumor_gt_5cm"' in html
    assert 'data-code="multiple_tumors"' in html
    assert 'data-code="moderate_cirrhosis"' in html
    # The first session window: the resection + 28 and + 42 days, passed by now.
    start, end = (dateformat.format(resected + timedelta(days=d), "j M Y") for d in (28, 42))
    assert f"{start} to {end}" in html
    assert "window for the first session had passed" in html
    assert "Ruleset 4" in html
    assert "dr-lee" in html
    assert "does not replace" in html


def test_detail_page_of_a_low_risk_patient_has_no_window(clinician_client, clinician):
    assessment = record(clinician)
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert 'data-recommendation="not_recommended"' in html
    assert "Adjuvant TACE not recommended" in re.sub(r"<[^>]+>", "", html)  # "not" is marked
    assert "First session window" not in html


@pytest.mark.parametrize(("days_ago", "passed"), [(42, False), (43, True)])
def test_the_window_has_passed_the_day_after_it_ends(clinician_client, clinician, days_ago, passed):
    resected = timezone.localdate() - timedelta(days=days_ago)
    assessment = record(clinician, tumor_size_cm="6.0", resection_date=resected.isoformat())
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert "First session window" in html
    assert ("window for the first session had passed" in html) is passed


def test_a_second_session_shows_no_first_session_window(clinician_client, clinician):
    resected = timezone.localdate() - timedelta(days=90)
    assessment = record(
        clinician,
        tumor_size_cm="6.0",
        prior_adjuvant_tace_sessions="1",
        resection_date=resected.isoformat(),
    )
    assert assessment.recommendation == "recommended"
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert "A second and last adjuvant TACE session is recommended" in html
    assert "First session window" not in html
    assert "window for the first session had passed" not in html


def test_missing_assessment_is_404(clinician_client):
    assert clinician_client.get("/assessments/999/").status_code == 404


def test_list_newest_first_with_search_and_filter(clinician_client, clinician):
    first = record(clinician, mrn="AB-100")
    second = record(clinician, mrn="AB-200", tumor_size_cm="7.0")
    third = record(clinician, mrn="CD-300")

    def listed(**params):
        response = clinician_client.get(reverse("assessments:list"), params)
        assert response.status_code == 200
        return list(response.context["page"].object_list)

    assert listed() == [third, second, first]
    assert listed(q="ab") == [second, first]
    assert listed(q="ab-100") == [first]
    assert listed(q="b") == []
    assert listed(recommendation="recommended") == [second]
    assert listed(q="ab", recommendation="not_recommended") == [first]
    html = clinician_client.get(reverse("assessments:list")).content.decode()
    assert first.patient.get_absolute_url() in html
    # The risk factor as people read it; its code is for machines.
    assert "Largest tumor &gt; 5 cm" in html
    assert "tumor_gt_5cm" not in html


def test_list_pages_of_25(clinician_client, clinician):
    for _ in range(26):
        record(clinician)
    response = clinician_client.get(reverse("assessments:list"))
    assert len(response.context["page"].object_list) == 25
    response = clinician_client.get(reverse("assessments:list"), {"page": 2})
    assert len(response.context["page"].object_list) == 1
    # The links to other pages keep the search and the filters.
    response = clinician_client.get(reverse("assessments:list"), {"q": "mrn", "voided": "1"})
    assert 'href="?q=mrn&amp;voided=1&amp;page=2"' in response.content.decode()


def test_patient_page_lists_their_assessments_by_resection_date(clinician_client, clinician):
    today = timezone.localdate()
    later = record(clinician, mrn="P-1", resection_date=str(today - timedelta(days=10)))
    earlier = record(clinician, mrn="P-1", resection_date=str(today - timedelta(days=400)))
    other = record(clinician, mrn="P-2")
    response = clinician_client.get(later.patient.get_absolute_url())
    assert list(response.context["timeline"]) == [earlier, later]
    assert other.get_absolute_url() not in response.content.decode()


def test_the_detail_page_links_the_earlier_assessments_of_the_patient(clinician_client, clinician):
    first = record(clinician, mrn="MRN-7")
    second = record(clinician, mrn="MRN-7", tumor_size_cm="6.0")
    other = record(clinician, mrn="MRN-8")
    html = clinician_client.get(second.get_absolute_url()).content.decode()
    assert "Earlier assessments of this patient" in html
    assert f'href="{first.get_absolute_url()}"' in html
    assert f'href="{other.get_absolute_url()}"' not in html
    assert f'href="{second.patient.get_absolute_url()}">All assessments of MRN-7</a>' in html
    assert (
        "Earlier assessments" not in clinician_client.get(first.get_absolute_url()).content.decode()
    )


def test_the_detail_page_shows_lab_values_in_both_units(clinician_client, clinician):
    umol = record(clinician, **{**PANEL, "bilirubin": "20.52", "bilirubin_unit": "umol_l"})
    html = clinician_client.get(umol.get_absolute_url()).content.decode()
    assert "20.52 µmol/L (1.2 mg/dL)" in html
    assert "3.4 g/dL (34 g/L)" in html


def test_the_albi_cut_offs_shown_are_the_engines(clinician_client, clinician, monkeypatch):
    assessment = record(clinician, **PANEL)
    monkeypatch.setattr(rules, "ALBI_GRADE_1_MAX", Decimal("-2.71"))
    monkeypatch.setattr(rules, "ALBI_GRADE_2_MAX", Decimal("-1.42"))
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert "grade 1 ≤ -2.71 &lt; grade 2 ≤ -1.42 &lt; grade 3" in html


def amend(client, assessment, **changes):
    data = {
        "resection_date": str(assessment.resection_date),
        "tumor_size_cm": str(assessment.tumor_size_cm),
        "tumor_count": str(assessment.tumor_count),
        "vascular_invasion": assessment.vascular_invasion,
        "cirrhosis_grade": assessment.cirrhosis_grade,
        "change_reason": "Re-measured on the specimen.",
        "version": str(assessment.version),
        **changes,
    }
    response = client.post(reverse("assessments:edit", args=[assessment.pk]), data, follow=True)
    return [str(message) for message in response.context["messages"]]


def test_an_amendment_that_changes_the_recommendation_says_so(clinician_client, clinician):
    assessment = record(clinician, tumor_size_cm="5.1")
    assert amend(clinician_client, assessment, tumor_size_cm="5.0") == [
        "Amendment saved: the recommendation changed from Recommended to Not recommended."
    ]
    assert Assessment.objects.get().recommendation == "not_recommended"


def test_an_amendment_that_keeps_the_recommendation_says_where_the_reason_is(
    clinician_client, clinician
):
    assessment = record(clinician, tumor_size_cm="5.1")
    assert amend(clinician_client, assessment, tumor_size_cm="5.5") == [
        "Amendment saved; the reason is in the history."
    ]
