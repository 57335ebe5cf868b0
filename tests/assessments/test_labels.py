"""Codes are for machines: people read labels, on every page and in every export."""

import csv
import io

import pytest
from django.urls import reverse

from assessments import rules
from assessments.models import CODE_LABELS
from tests.factories import PASSWORD, record

pytestmark = pytest.mark.django_db


def test_every_code_the_engine_can_emit_has_a_label():
    codes = {*rules.RISK_FACTORS, *rules.CONTRAINDICATIONS, *rules.CAUTIONS}
    assert codes - set(CODE_LABELS) == set()


def test_the_patient_page_shows_risk_factors_by_label(reviewer_client, clinician):
    assessment = record(clinician, tumor_size_cm="6.0", tumor_count="2")
    html = reviewer_client.get(assessment.patient.get_absolute_url()).content.decode()
    assert "Largest tumor &gt; 5 cm, Multiple tumors" in html
    assert "tumor_gt_5cm" not in html and "multiple_tumors" not in html


def void(client, assessment):
    url = reverse("assessments:void", args=[assessment.pk])
    response = client.post(url, {"reason": "Entered twice.", "version": assessment.version})
    assert response.status_code == 302


def test_a_voided_recommendation_badge_is_grey(client, clinician):
    client.force_login(clinician)
    voided = record(clinician, mrn="MRN-V", tumor_size_cm="6.0")
    void(client, voided)
    record(clinician, mrn="MRN-V", tumor_size_cm="6.0")
    for url in [f"{reverse('assessments:list')}?voided=1", voided.patient.get_absolute_url()]:
        html = client.get(url).content.decode()
        rows = [row for row in html.split("<tr") if "Adjuvant TACE recommended" in row]
        assert len(rows) == 2, url
        voided_row, live_row = sorted(rows, key=lambda row: 'class="voided"' not in row)
        assert "text-bg-secondary" in voided_row and "text-bg-success" not in voided_row, url
        assert "text-bg-success" in live_row, url


def test_the_history_shows_code_lists_by_label(clinician_client, clinician):
    assessment = record(clinician, tumor_size_cm="6.0")
    data = {
        "resection_date": str(assessment.resection_date),
        "tumor_size_cm": "6.0",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "severe",
        "change_reason": "Cirrhosis grade corrected.",
        "version": str(assessment.version),
    }
    edit = clinician_client.post(reverse("assessments:edit", args=[assessment.pk]), data)
    assert edit.status_code == 302
    response = clinician_client.get(reverse("assessments:history", args=[assessment.pk]))
    changes = {c["field"]: (c["old"], c["new"]) for c in response.context["versions"][0]["changes"]}
    assert changes["contraindications"] == ("(none)", "Severe cirrhosis")
    assert "severe_cirrhosis" not in response.content.decode()


def test_the_admin_export_gives_each_code_its_label_beside_it(client, django_user_model, clinician):
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    assessment = record(clinician, tumor_size_cm="6.0", cirrhosis_grade="moderate")
    response = client.post(
        reverse("admin:assessments_assessment_changelist"),
        {"action": "export_csv", "_selected_action": [assessment.pk]},
    )
    header, row = list(csv.reader(io.StringIO(response.content.decode())))
    cells = dict(zip(header, row, strict=True))
    assert header[header.index("cirrhosis_grade") + 1] == "cirrhosis_grade (label)"
    assert cells["cirrhosis_grade"] == "moderate"
    assert cells["cirrhosis_grade (label)"] == rules.CIRRHOSIS_GRADES["moderate"]
    assert cells["recommendation (label)"] == "Recommended"
    assert cells["risk_factors (label)"] == "Largest tumor > 5 cm"
    assert cells["cautions (label)"] == "Moderate cirrhosis, No liver panel"
    assert cells["status (label)"] == "Draft"
    assert "ascites (label)" in cells and cells["ascites (label)"] == ""
    assert "notes (label)" not in cells and "patient__mrn (label)" not in cells


def test_the_audit_export_gives_the_action_its_label(reviewer_client):
    response = reviewer_client.get(reverse("assessments:audit_export"), {"action": "login"})
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header[3:5] == ["action", "action (label)"]
    assert rows and all(row[3:5] == ["login", "Logged in"] for row in rows)
