"""The ward's reading of the pages: people by their full names, the sign page's refusal,
the widgets' hints, the recommendation's look and the Chinese wording."""

import pytest
from django.urls import reverse

from assessments import services
from assessments.models import AuditEvent, person_name
from tests.conftest import PASSWORD, make_user, record

pytestmark = pytest.mark.django_db


def named(user, first="Mei", last="Chen"):
    user.first_name, user.last_name = first, last
    user.save()
    return user


def test_person_name_is_the_full_name_or_else_the_user_name(clinician):
    assert person_name(clinician) == clinician.username
    assert person_name(named(clinician)) == "Mei Chen"
    assert person_name(None) == ""


def test_people_are_named_by_their_full_names_on_every_page(client, clinician, django_user_model):
    named(clinician)
    consultant = named(make_user(django_user_model, "dr-tan", "Consultants"), "Hui", "Tan")
    assessment = record(clinician)
    client.force_login(consultant)
    client.post(
        reverse("assessments:sign", args=[assessment.pk]),
        {"password": PASSWORD, "version": assessment.version},
    )
    assessment.refresh_from_db()
    assert assessment.status == "signed"
    pages = {
        "detail": reverse("assessments:detail", args=[assessment.pk]),
        "print": reverse("assessments:print", args=[assessment.pk]),
        "history": reverse("assessments:history", args=[assessment.pk]),
        "patient": reverse("assessments:patient", args=[assessment.patient_id]),
        "list": reverse("assessments:list"),
        "worklist": reverse("assessments:worklist"),
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        assert "Hui Tan" in html, name  # the navbar, the signature
        if name != "worklist":
            assert "Mei Chen" in html, name
        assert "dr-tan" not in html, name
    history = client.get(pages["history"]).context["versions"]
    signed = {change["field"]: change["new"] for change in history[0]["changes"]}
    assert signed["signed_by"] == "Hui Tan"


def test_the_worklist_names_the_author_of_a_draft(client, clinician, consultant):
    record(named(clinician))
    client.force_login(consultant)
    html = client.get(reverse("assessments:worklist")).content.decode()
    assert "Mei Chen" in html


def test_the_audit_log_names_the_user_by_full_name(client, django_user_model, clinician):
    reviewer = named(make_user(django_user_model, "rev", "Reviewers"), "An", "Li")
    record(named(clinician))
    client.force_login(reviewer)
    client.get(reverse("assessments:list"))
    rows = client.get(reverse("assessments:audit_log")).context["rows"]
    assert "An Li" in {row["user"] for row in rows}


def test_the_sign_page_tells_a_clinician_who_may_sign(client, clinician, django_user_model):
    consultant = named(make_user(django_user_model, "dr-tan", "Consultants"), "Hui", "Tan")
    assessment = record(make_user(django_user_model, "dr-author", "Clinicians"))
    client.force_login(clinician)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_DENIED).count()
    for response in (
        client.get(reverse("assessments:sign", args=[assessment.pk])),
        client.post(
            reverse("assessments:sign", args=[assessment.pk]),
            {"password": PASSWORD, "version": 1},
        ),
    ):
        assert response.status_code == 403
        html = response.content.decode()
        assert "Consultants role" in html
        assert "Hui Tan" in html
        assert list(response.context["signers"]) == [consultant]
        assert 'name="password"' not in html
    denied = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_DENIED)
    assert denied.count() == before + 2
    assert denied.last().detail["permission"] == "assessments.sign_assessment"
    assessment.refresh_from_db()
    assert assessment.status == "draft"


def test_a_user_with_no_role_still_gets_the_generic_403(client, no_role_user, clinician):
    assessment = record(clinician)
    client.force_login(no_role_user)
    response = client.get(reverse("assessments:sign", args=[assessment.pk]))
    assert response.status_code == 403
    assert assessment.patient.mrn not in response.content.decode()


def test_a_stale_version_names_who_saved_it(clinician, other_clinician):
    assessment = record(clinician)
    named(other_clinician, "Jun", "Wang")
    services.void_assessment(
        assessment=assessment, user=other_clinician, reason="Wrong patient.", version=1
    )
    with pytest.raises(services.StaleVersion, match="Jun Wang changed this assessment"):
        services.void_assessment(
            assessment=assessment, user=clinician, reason="Wrong patient.", version=1
        )


def test_the_history_speaks_chinese(client, clinician, consultant):
    assessment = record(clinician)
    client.force_login(consultant)
    client.post(
        reverse("assessments:sign", args=[assessment.pk]),
        {"password": PASSWORD, "version": assessment.version},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    html = client.get(
        reverse("assessments:history", args=[assessment.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    for english in ("Signed by", "(none)", "reviewed and approved"):
        assert english not in html
    assert "签署人" in html and "（无）" in html and "已审核并批准" in html
