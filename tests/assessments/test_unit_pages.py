"""The list's filters, sort and CSV export; the patient page; the printout; the password
change; the menu and the admin's user list."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Assessment, AuditEvent
from tests.factories import PASSWORD, record

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def listed(client, **params) -> list[str]:
    response = client.get(reverse("assessments:list"), params)
    assert response.status_code == 200
    return [a.patient.mrn for a in response.context["page"].object_list]


@pytest.fixture
def rows(clinician, other_clinician, consultant):
    """Four assessments: B by the other clinician, C signed, D voided."""
    made = {
        "A-1": record(clinician, mrn="A-1", resection_date=days_ago(30), tumor_size_cm="6.0"),
        "B-2": record(other_clinician, mrn="B-2", resection_date=days_ago(100)),
        "C-3": record(clinician, mrn="C-3", resection_date=days_ago(10)),
        "D-4": record(clinician, mrn="D-4", resection_date=days_ago(60), tumor_size_cm="6.0"),
    }
    services.sign_assessment(assessment=made["C-3"], user=consultant, version=1)
    services.void_assessment(assessment=made["D-4"], user=clinician, reason="Duplicate", version=1)
    return made


def test_filters(clinician_client, rows, other_clinician):
    client = clinician_client
    assert listed(client) == ["C-3", "B-2", "A-1"]  # newest first, voided left out
    assert listed(client, voided="1") == ["D-4", "C-3", "B-2", "A-1"]
    # Only the box's own value includes them, as the list's links have always sent it.
    assert listed(client, voided="0") == listed(client, voided="on") == ["C-3", "B-2", "A-1"]
    assert listed(client, status="draft") == ["B-2", "A-1"]
    assert listed(client, status="signed") == ["C-3"]
    assert listed(client, status="voided") == ["D-4"]
    assert listed(client, recommendation="recommended") == ["A-1"]
    assert listed(client, clinician=other_clinician.pk) == ["B-2"]
    assert listed(client, resection_from=days_ago(30)) == ["C-3", "A-1"]
    assert listed(client, resection_from=days_ago(100), resection_to=days_ago(31)) == ["B-2"]
    assert listed(client, resection_to=days_ago(101)) == []
    today = timezone.localdate().isoformat()
    assert listed(client, assessed_from=today, assessed_to=today) == ["C-3", "B-2", "A-1"]
    assert listed(client, assessed_to=days_ago(1)) == []
    assert listed(client, window="due") == ["A-1"]
    assert listed(client, window="passed") == []  # D-4's window passed, but it is voided
    # Nonsense is ignored, not an error.
    assert listed(client, status="x", clinician="y", resection_from="2026-02-30") == [
        "C-3",
        "B-2",
        "A-1",
    ]


def test_sorting(clinician_client, rows):
    client = clinician_client
    assert listed(client, sort="assessed") == ["A-1", "B-2", "C-3"]
    assert listed(client, sort="resection") == ["B-2", "A-1", "C-3"]
    assert listed(client, sort="-resection") == ["C-3", "A-1", "B-2"]
    assert listed(client, sort="mrn") == ["A-1", "B-2", "C-3"]
    assert listed(client, sort="-mrn") == ["C-3", "B-2", "A-1"]
    assert listed(client, sort="nonsense") == ["C-3", "B-2", "A-1"]


def test_filters_stay_in_the_page_links_and_the_form(clinician_client, clinician):
    for number in range(26):
        record(clinician, mrn=f"P-{number}")
    params = {"status": "draft", "sort": "mrn", "resection_from": days_ago(40)}
    html = clinician_client.get(reverse("assessments:list"), params).content.decode()
    assert f'href="?status=draft&amp;sort=mrn&amp;resection_from={days_ago(40)}&amp;page=2"' in html
    assert '<option value="draft" selected>' in html
    assert '<option value="mrn" selected>' in html
    assert f'value="{days_ago(40)}"' in html


def test_empty_list_says_what_to_do(clinician_client, reviewer, client):
    html = clinician_client.get(reverse("assessments:list")).content.decode()
    assert 'No assessments yet: <a href="/assessments/new/">create the first one</a>.' in html
    html = clinician_client.get(reverse("assessments:list"), {"q": "ZZ"}).content.decode()
    assert "No assessments match." in html and "create the first one" not in html


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_export_of_the_filtered_list(client, rows, reviewer, consultant):
    client.force_login(reviewer)
    response = client.get(reverse("assessments:export"), {"status": "signed", "q": "c"})
    header, *lines = read_csv(response)
    assert header[:8] == [
        "ID",
        "MRN",
        "Date of resection",
        "Assessed at",
        "Clinician",
        "Status",
        "Recommendation",
        "Risk of recurrence",
    ]
    (line,) = lines
    row = dict(zip(header, line, strict=True))
    assert row["MRN"] == "C-3"
    assert (row["Status"], row["Recommendation"]) == ("Signed", "Not recommended")
    assert row["Signed by"] == consultant.username
    assert (
        row["Cirrhosis grade"] == Assessment(cirrhosis_grade="none").get_cirrhosis_grade_display()
    )
    (event,) = AuditEvent.objects.filter(action="export")
    assert event.user == reviewer
    # The MRN searched for is not in the audit detail; that there was a search is.
    assert event.detail == {
        "what": "assessments",
        "filters": {"status": "signed", "sort": "-assessed"},
        "searched_by_mrn": True,
    }
    client.force_login(consultant)
    assert len(read_csv(client.get(reverse("assessments:export")))) == 1 + 3


def test_csv_export_is_formula_safe(reviewer_client, clinician):
    clinician.username = "=HYPERLINK()"
    clinician.save()
    record(clinician)
    header, line = read_csv(reviewer_client.get(reverse("assessments:export")))
    assert dict(zip(header, line, strict=True))["Clinician"] == "'=HYPERLINK()"


def test_the_list_offers_the_export_to_those_who_may(client, clinician, reviewer):
    client.force_login(clinician)
    assert "data-export" not in client.get(reverse("assessments:list")).content.decode()
    client.force_login(reviewer)
    html = client.get(reverse("assessments:list"), {"status": "draft"}).content.decode()
    assert 'href="/assessments/export/?status=draft" data-export' in html


def test_patient_page_new_assessment_without_the_mrn_in_a_url(clinician_client, clinician):
    recent = record(clinician, mrn="PT-9", resection_date=days_ago(30), tumor_size_cm="6.0")
    old = record(clinician, mrn="PT-9", resection_date=days_ago(300))
    response = clinician_client.get(recent.patient.get_absolute_url())
    html = response.content.decode()
    link = f'href="/assessments/new/?patient={recent.patient.pk}"'
    assert link in html and "New assessment for this patient" in html
    assert list(response.context["timeline"]) == [old, recent]
    assert [a.window_state for a in response.context["timeline"]] == ["", "open"]
    form = clinician_client.get(reverse("assessments:create"), {"patient": recent.patient.pk})
    assert form.context["form"]["mrn"].value() == "PT-9"
    for nonsense in ["x", "999999", "1" * 30]:
        form = clinician_client.get(reverse("assessments:create"), {"patient": nonsense})
        assert form.status_code == 200 and form.context["form"]["mrn"].value() is None


def test_reviewers_see_no_new_assessment_button(reviewer_client, clinician):
    assessment = record(clinician)
    html = reviewer_client.get(assessment.patient.get_absolute_url()).content.decode()
    assert "New assessment for this patient" not in html


def test_print_header_and_signature_line(client, clinician, consultant, settings):
    settings.SITE_NAME = "St Elsewhere Hospital"
    settings.TIME_ZONE = "Europe/London"
    assessment = record(clinician, tumor_size_cm="6.0")
    client.force_login(consultant)
    url = reverse("assessments:print", args=[assessment.pk])
    html = client.get(url).content.decode()
    assert '<p class="h5 mb-1" data-site-name>St Elsewhere Hospital</p>' in html
    assert f"Printed by {consultant.username} on " in html
    assert "(time zone Europe/London)" in html
    assert "data-signature-line" in html
    assert '<button type="button" class="btn btn-primary" data-print>Print</button>' in html
    assert 'src="/static/js/print.js"' in html and "<script>" not in html
    assert "First session window" in html
    event = AuditEvent.objects.filter(action="view_assessment").latest("id")
    assert event.detail == {"printout": True} and event.patient == assessment.patient
    services.sign_assessment(assessment=assessment, user=consultant, version=1)
    html = client.get(url).content.decode()
    assert "data-signature-line" not in html and 'data-status="signed"' in html


def test_print_without_a_site_name_prints_no_empty_line(clinician_client, clinician, settings):
    settings.SITE_NAME = ""
    assessment = record(clinician)
    html = clinician_client.get(reverse("assessments:print", args=[assessment.pk])).content
    assert b"data-site-name" not in html


def test_password_change_is_audited(clinician_client, clinician):
    url = reverse("password_change")
    page = clinician_client.get(url)
    assert page.status_code == 200
    assert b"Change your password" in page.content
    new = "another-long-password-9"
    response = clinician_client.post(
        url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response["Location"] == reverse("password_change_done")
    clinician.refresh_from_db()
    assert clinician.check_password(new)
    (event,) = AuditEvent.objects.filter(action="password_changed")
    assert event.user == clinician and event.detail == {}
    # Still logged in.
    assert clinician_client.get(reverse("assessments:worklist")).status_code == 200


def test_wrong_old_password_changes_nothing(clinician_client, clinician):
    response = clinician_client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x" * 14, "new_password2": "x" * 14},
    )
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="password_changed").exists()


def test_menu_shows_the_admin_to_superusers_only(client, clinician, django_user_model):
    client.force_login(clinician)
    html = client.get(reverse("assessments:worklist")).content.decode()
    assert 'href="/admin/"' not in html and 'href="/accounts/password/"' in html
    client.force_login(django_user_model.objects.create_superuser("root", password=PASSWORD))
    assert 'href="/admin/"' in client.get(reverse("assessments:worklist")).content.decode()


def test_admin_user_list_shows_roles(client, clinician, consultant, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    consultant.groups.add(Group.objects.get(name="Reviewers"))
    client.force_login(root)
    response = client.get(reverse("admin:auth_user_changelist"))
    html = response.content.decode()
    assert '<td class="field-roles">Clinicians</td>' in html
    assert '<td class="field-roles">Consultants, Reviewers</td>' in html
    assert '<td class="field-roles">Administrator</td>' in html


@pytest.mark.parametrize("name", ["q", "user"])
def test_a_search_its_form_refuses_is_left_out_not_an_error(reviewer_client, rows, name):
    """The list's search and the audit log's user go through their forms, as the other
    filters do: a NUL (which PostgreSQL cannot hold in a string) is not searched for."""
    url = reverse("assessments:list" if name == "q" else "assessments:audit_log")
    response = reviewer_client.get(url, {name: "A-\x00"})
    assert response.status_code == 200
    if name == "q":
        assert len(response.context["page"].object_list) == 3
