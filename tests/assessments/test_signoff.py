"""Two-person sign-off: nobody signs what they created or last amended, unless allowed."""

import pytest
from django.urls import reverse

from assessments import services
from assessments.models import Assessment
from tests.factories import PASSWORD, make_user, record
from tests.test_settings import manage, production_env

pytestmark = pytest.mark.django_db


def sign(client, assessment):
    return client.post(
        reverse("assessments:sign", args=[assessment.pk]),
        {"password": PASSWORD, "version": assessment.version},
    )


def amend(assessment, user):
    current = Assessment.objects.get(pk=assessment.pk)
    return services.amend_assessment(
        assessment=current,
        data={
            "resection_date": current.resection_date,
            "notes": "Reviewed at the meeting.",
            "tumor_size_cm": current.tumor_size_cm,
            "tumor_count": current.tumor_count,
            "vascular_invasion": current.vascular_invasion,
            "cirrhosis_grade": current.cirrhosis_grade,
            "prior_adjuvant_tace_sessions": 0,
        },
        user=user,
        reason="Notes added.",
        version=current.version,
    )


def test_the_author_is_refused_and_told_who_may_sign(client, consultant, django_user_model):
    other = make_user(django_user_model, "dr-tan", "Consultants")
    make_user(django_user_model, "dr-clin", "Clinicians")  # may not sign at all
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    assessment = record(consultant)
    client.force_login(consultant)
    page = client.get(reverse("assessments:sign", args=[assessment.pk]))
    assert page.status_code == 200
    assert "form" not in page.context
    assert page.context["refusal"] == services.SELF_SIGN
    assert list(page.context["signers"]) == [other, root]
    response = sign(client, assessment)
    assert response.status_code == 200
    assert str(services.SELF_SIGN) in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == "draft" and assessment.history.count() == 1


def test_superusers_are_bound_too(client, django_user_model, consultant):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    own = record(root, mrn="ROOT-1")
    with pytest.raises(services.NotAllowed, match="a second person signs it"):
        services.sign_assessment(assessment=own, user=root, version=own.version)
    client.force_login(root)
    assert sign(client, own).status_code == 200
    assert sign(client, record(consultant, mrn="WU-1")).status_code == 302


def test_the_last_amender_may_not_sign_but_the_creator_neither(
    consultant, django_user_model, clinician
):
    other = make_user(django_user_model, "dr-tan", "Consultants")
    assessment = record(clinician)
    amend(assessment, consultant)
    current = Assessment.objects.get(pk=assessment.pk)
    assert services.authors(current) == {clinician.pk, consultant.pk}
    with pytest.raises(services.NotAllowed):
        services.sign_assessment(assessment=current, user=consultant, version=current.version)
    signed = services.sign_assessment(assessment=current, user=other, version=current.version)
    assert signed.signed_by == other and not signed.self_signed
    assert signed.signed_version == current.version


def test_self_signing_allowed_by_the_setting_is_recorded(client, consultant, settings):
    settings.ALLOW_SELF_SIGN = True
    assessment = record(consultant)
    client.force_login(consultant)
    assert sign(client, assessment).status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "signed" and assessment.signed_by == consultant
    assert assessment.self_signed and assessment.signed_version == 1
    latest = assessment.history.first()
    assert latest.action == "signed" and latest.self_signed and latest.signed_version == 1
    html = client.get(assessment.get_absolute_url()).content.decode()
    assert "A self-signature" in html and "Version 1 was reviewed." in html


def test_amending_withdraws_the_self_signature_too(consultant, settings):
    settings.ALLOW_SELF_SIGN = True
    assessment = record(consultant)
    services.sign_assessment(assessment=assessment, user=consultant, version=1)
    amended = amend(assessment, consultant)
    assert amended.status == "draft"
    assert (amended.signed_by, amended.signed_version, amended.self_signed) == (None, None, False)


@pytest.mark.parametrize(("value", "shown"), [("1", "True"), ("0", "False"), ("", "False")])
def test_the_setting_comes_from_the_environment(value, shown):
    env = production_env(DJANGO_ALLOW_SELF_SIGN=value)
    code = "from django.conf import settings; print(settings.ALLOW_SELF_SIGN)"
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.split()[-1] == shown, result.stderr
