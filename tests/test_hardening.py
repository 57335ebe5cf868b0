"""Holes a penetration test found, each reproduced: refused now."""

import csv
import io
import logging

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext_lazy

from assessments.models import AuditEvent
from common import csvio
from tests.factories import record

pytestmark = pytest.mark.django_db


# A form body declared in another charset than UTF-8


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ISO-8859-1"])
@pytest.mark.parametrize("url", ["/accounts/login/", "/assessments/", "/no-such-page/"])
def test_a_post_in_another_charset_is_a_plain_400(charset, url, caplog):
    # With the CSRF check on, as in production: it is what read the body a second time.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    caplog.set_level(logging.INFO)
    response = client.post(
        url,
        f"csrfmiddlewaretoken={token}&username=a&password=b",
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert response.status_code == 400
    assert not any(record.exc_info for record in caplog.records)
    assert "Traceback" not in caplog.text


def test_a_utf8_post_still_works(client, clinician):
    response = client.post(
        reverse("login"),
        "username=dr-lee&password=a-long-test-password",
        content_type="application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert response.status_code == 302


# CSV injection


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", ";=cmd|' /C calc'!A0", ",=1", "  =1"],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(value):
    assert csvio.csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["dr-lee", "MRN-1", "1.5", " a", ""])
def test_ordinary_cells_are_kept(value):
    assert csvio.csv_safe(value) == value


def test_a_csv_response_is_an_attachment_of_safe_quoted_cells():
    response = csvio.csv_response(
        "x.csv", [gettext_lazy("Status"), "id"], iter([["=1+1", 2], [None, "a"]])
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response.content.decode() == '"Status","id"\r\n"\'=1+1","2"\r\n"","a"\r\n'


def test_a_failed_login_named_like_a_formula_is_exported_quoted(client, reviewer):
    client.post(reverse("login"), {"username": ";=cmd|' /C calc'!A0", "password": "x"})
    assert AuditEvent.objects.filter(action="login_failed").exists()
    client.force_login(reviewer)
    response = client.get(reverse("assessments:audit_export"))
    text = response.content.decode()
    lines = text.splitlines()
    # Every cell quoted, the header too, and the name neutralised.
    assert lines[0].startswith('"id","time (UTC)","user"')
    assert all(line.startswith('"') and line.endswith('"') for line in lines)
    (failed,) = [row for row in csv.reader(io.StringIO(text)) if row[3] == "login_failed"]
    assert failed[2] == "';=cmd|' /C calc'!A0"


# Nothing behind the login is stored by a browser or a cache


def test_pages_with_patient_data_exports_and_the_preview_are_not_stored(
    clinician, reviewer, client, valid_data
):
    assessment = record(clinician)
    client.force_login(reviewer)
    for url in [
        reverse("assessments:list"),
        assessment.get_absolute_url(),
        reverse("assessments:history", args=[assessment.pk]),
        reverse("assessments:patient", args=[assessment.patient.pk]),
        reverse("assessments:audit_log"),
        reverse("assessments:audit_export"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    client.force_login(clinician)
    preview = client.post(reverse("assessments:preview"), valid_data)
    assert preview.status_code == 200
    assert "no-store" in preview["Cache-Control"]


def test_the_admin_export_is_not_stored(client, django_user_model, clinician):
    assessment = record(clinician)
    client.force_login(django_user_model.objects.create_superuser("root", password="x" * 12))
    response = client.post(
        reverse("admin:assessments_assessment_changelist"),
        {"action": "export_csv", "_selected_action": [assessment.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]


# Logs: no typed username, no forged line


@pytest.fixture
def log_output():
    """What the app's own log handler writes."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_no_typed_username_and_no_forged_line_in_the_log(client, clinician, log_output):
    typed = "my-Secret-passw0rd\nERROR forged line"
    for _ in range(6):  # failures, then a lockout: axes logs each at some level
        client.post(reverse("login"), {"username": typed, "password": "x"})
    client.post(reverse("login"), {"username": "dr-lee", "password": "wrong"})
    client.get("/no-such-page%0aERROR forged line/")
    output = log_output.getvalue()
    assert "Not Found: /no-such-page\\nERROR forged line/" in output
    assert "my-Secret-passw0rd" not in output
    assert "dr-lee" not in output
    assert not any(line.startswith("ERROR forged") for line in output.splitlines())


# Accounts


def test_renaming_a_user_keeps_the_old_name_in_the_audit_event(clinician):
    clinician.username = "dr-lee-smith"
    clinician.save()
    event = AuditEvent.objects.filter(action="user_changed").order_by("-id").first()
    assert event.detail["target"] == "user dr-lee-smith"
    assert event.detail["renamed_from"] == "dr-lee"


def test_renaming_a_group_keeps_the_old_name(clinician):
    group = Group.objects.create(name="Ward 5")
    group.name = "Ward 6"
    group.save()
    event = AuditEvent.objects.filter(action="user_changed").order_by("-id").first()
    assert event.detail["renamed_from"] == "Ward 5"


def test_a_save_without_a_rename_says_none(clinician):
    clinician.is_active = False
    clinician.save()
    event = AuditEvent.objects.filter(action="user_changed").order_by("-id").first()
    assert "renamed_from" not in event.detail
