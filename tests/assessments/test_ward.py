"""The ward's reading of the pages: people by their full names, the sign page's refusal,
the widgets' hints, the recommendation's look and the Chinese wording."""

import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from assessments import services
from assessments.forms import RuleInputsV3Form
from assessments.models import AuditEvent, person_name
from tests.factories import PASSWORD, make_user, record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_after():
    """A request in Chinese leaves Chinese active in the thread (LocaleMiddleware): the
    tests after these, which check English messages without a request, need English."""
    yield
    translation.activate("en")


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


# Chinese input, hints and wording.


@pytest.mark.parametrize(
    ("field", "typed", "half"),
    [
        ("tumor_size_cm", "５.５", "5.5"),
        ("tumor_size_cm", "５．５", "5.5"),
        ("tumor_count", "２", "2"),
    ],
)
@pytest.mark.parametrize("json_input", [False, True])
def test_full_width_digits_are_refused_saying_to_use_half_width(field, typed, half, json_input):
    data = {
        "tumor_size_cm": "2.5",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "mild",
        field: typed,
    }
    with translation.override("en"):
        form = RuleInputsV3Form(data=data, json_input=json_input)
        assert form.errors[field] == [f"Use half-width digits: enter {half}, not {typed}."]
    with translation.override("zh-hans"):
        form = RuleInputsV3Form(data=data, json_input=json_input)
        assert form.errors[field] == [f"请使用半角数字：输入 {half}，而不是 {typed}。"]


def test_other_non_ascii_digits_keep_the_fields_message():
    with translation.override("en"):
        form = RuleInputsV3Form(data={"tumor_size_cm": "٥"})
        assert form.errors["tumor_size_cm"] == ["Enter a number of centimetres, such as 4.5."]


def test_date_hints_describe_the_calendar_not_a_format(clinician_client, clinician):
    html = clinician_client.get(reverse("assessments:create")).content.decode()
    assert 'type="date"' in html
    assert "YYYY-MM-DD" not in html
    assert "pick it in the calendar" in html
    assessment = record(clinician)
    url = reverse("assessments:event_create", args=[assessment.patient_id, "recurrence"])
    html = clinician_client.get(url).content.decode()
    assert "YYYY-MM-DD" not in html and "pick it in the calendar" in html


def test_prior_sessions_start_empty_as_the_hint_says(clinician_client, clinician):
    form = clinician_client.get(reverse("assessments:create")).context["form"]
    assert "leave empty for none" in str(form.fields["prior_adjuvant_tace_sessions"].help_text)
    assert form["prior_adjuvant_tace_sessions"].value() is None
    assessment = record(clinician)
    edit = clinician_client.get(reverse("assessments:edit", args=[assessment.pk])).context["form"]
    assert edit["prior_adjuvant_tace_sessions"].value() is None
    html = clinician_client.get(reverse("assessments:create")).content.decode()
    assert 'name="prior_adjuvant_tace_sessions" value="0"' not in html


def test_the_portal_vein_options_read_as_the_ward_does():
    field = RuleInputsV3Form.base_fields["vascular_invasion"]
    labels = dict(field.choices)
    assert str(labels["portal_vein_branch"]) == (
        "Portal vein branch tumor thrombus (Vp1 to Vp3, Japanese classification)"
    )
    with translation.override("zh-hans"):
        assert "程氏 I–II 型" in str(labels["portal_vein_branch"])
        assert "术中取栓" in str(labels["portal_vein_main"])


def test_the_sources_on_rules_are_in_chinese(client, clinician):
    """{% translate %} doubled the "%" of 44.4%, so the Ren 2004 entry was never found."""
    client.force_login(clinician)
    html = client.get(reverse("assessments:rules"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = html.content.decode()
    assert "Retrospective, 549 patients" not in text
    assert "回顾性研究，549 例患者" in text
    assert "5 至 6 分；B 级" in text


def test_the_outcomes_title_is_follow_up_outcomes_in_chinese():
    with translation.override("zh-hans"):
        assert translation.gettext("Outcomes") == "随访结局"


# How the result looks.


@pytest.mark.parametrize(
    ("size", "recommendation", "icon", "wording"),
    [
        ("6.0", "recommended", 'data-icon="recommended"', "Adjuvant TACE recommended"),
        ("3.0", "not_recommended", 'data-icon="not_recommended"', '<em class="negation">not</em>'),
    ],
)
def test_each_outcome_has_its_own_icon_and_wording(
    clinician_client, clinician, size, recommendation, icon, wording
):
    assessment = record(clinician, tumor_size_cm=size)
    assert assessment.recommendation == recommendation
    for name in ("assessments:detail", "assessments:print"):
        html = clinician_client.get(reverse(name, args=[assessment.pk])).content.decode()
        heading = re.search(r'<h\d[^>]*class="result-heading[^"]*"[^>]*>(.*?)</h\d>', html, re.S)
        assert heading, name
        assert icon in heading[1] and wording in heading[1], name


def test_the_recommendation_is_the_largest_text_in_the_stylesheet():
    css = (settings.BASE_DIR / "static/css/app.css").read_text()
    screen, printed = re.findall(r"(?m)^\s*\.result-heading \{\s*font-size: ([\d.]+)(rem|pt)", css)
    assert float(screen[0]) > 1.75  # Bootstrap's h3, the detail page's title
    assert float(printed[0]) > 12  # the printout's title in print


def test_on_a_phone_the_preview_comes_before_the_save_button(clinician_client, clinician):
    """Shown after the preview (order-last); in the page before it, for the Tab order."""
    assessment = record(clinician)
    for url in (
        reverse("assessments:create"),
        reverse("assessments:edit", args=[assessment.pk]),
    ):
        html = clinician_client.get(url).content.decode()
        actions = html.index('<div class="col-lg-8 order-last form-actions">')
        assert html.index("</form>") < actions < html.index('form="assessment-form"')
        assert html.index('form="assessment-form"') < html.index('id="preview"')


def test_the_navbar_collapses_with_bootstrap_from_static(clinician_client):
    html = clinician_client.get(reverse("assessments:worklist")).content.decode()
    assert 'data-bs-toggle="collapse" data-bs-target="#navbar-menu"' in html
    assert 'class="collapse navbar-collapse' in html
    assert "/static/vendor/bootstrap/js/bootstrap.bundle.min.js" in html
    assert "https://" not in re.sub(r"<a [^>]*>", "", html).split("<main")[0]
