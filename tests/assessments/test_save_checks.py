"""What saving asks beside valid input: unusual values and a possible duplicate are saved
only once confirmed, on the web form and in the API; scoring alone is unchanged."""

import io
import json
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from assessments.forms import AssessmentForm
from assessments.models import Assessment
from tests.api.conftest import ApiClient as Api
from tests.api.conftest import token_for
from tests.factories import PANEL, amend_data, record

pytestmark = pytest.mark.django_db


def form_data(**changes):
    return {
        "mrn": "PLAUS-1",
        "resection_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
        "tumor_size_cm": "2.5",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "mild",
        "notes": "",
        **changes,
    }


# Both sides of every limit: (changes, the field that is unusual, or None).
LIMITS = [
    ({"tumor_size_cm": "14.9"}, None),
    ({"tumor_size_cm": "15.0"}, "tumor_size_cm"),
    ({"tumor_count": "9"}, None),
    ({"tumor_count": "10"}, "tumor_count"),
    ({**PANEL, "bilirubin": "300", "bilirubin_unit": "umol_l"}, None),
    ({**PANEL, "bilirubin": "300.01", "bilirubin_unit": "umol_l"}, "bilirubin"),
    ({**PANEL, "bilirubin": "17.54", "bilirubin_unit": "mg_dl"}, None),  # 299.9 µmol/L
    ({**PANEL, "bilirubin": "17.55", "bilirubin_unit": "mg_dl"}, "bilirubin"),  # 300.1
    ({**PANEL, "albumin": "15", "albumin_unit": "g_l"}, None),
    ({**PANEL, "albumin": "14.99", "albumin_unit": "g_l"}, "albumin"),
    ({**PANEL, "albumin": "1.5", "albumin_unit": "g_dl"}, None),
    ({**PANEL, "albumin": "1.49", "albumin_unit": "g_dl"}, "albumin"),
    ({**PANEL, "albumin": "60", "albumin_unit": "g_l"}, None),
    ({**PANEL, "inr": "5.00"}, None),
    ({**PANEL, "inr": "5.01"}, "inr"),
]


@pytest.mark.parametrize(("changes", "unusual"), LIMITS)
def test_an_unusual_value_is_refused_until_confirmed(changes, unusual):
    form = AssessmentForm(data=form_data(**changes))
    assert form.is_valid() == (unusual is None), form.errors
    if unusual:
        assert list(form.errors) == [unusual]
        [error] = form.errors.as_data()[unusual]
        assert error.code == "implausible"
        assert "outside the usual range" in error.message
        assert "The value is correct" in error.message
        confirmed = AssessmentForm(data=form_data(**changes, confirm_implausible=[unusual]))
        assert confirmed.is_valid(), confirmed.errors
        assert confirmed.cleaned_data["confirmations"] == [unusual]


def test_the_refusal_names_the_value_and_each_unusual_value_needs_its_own_box():
    data = form_data(tumor_size_cm="25", tumor_count="12")
    form = AssessmentForm(data={**data, "confirm_implausible": ["tumor_count"]})
    assert not form.is_valid()
    assert list(form.errors) == ["tumor_size_cm"]
    assert "The largest tumor diameter, 25 cm, is outside" in form.errors["tumor_size_cm"][0]


def test_the_form_shows_a_box_beside_the_value_naming_it(clinician_client):
    response = clinician_client.post(reverse("assessments:create"), form_data(tumor_size_cm="25"))
    assert response.status_code == 200
    assert Assessment.objects.count() == 0
    html = response.content.decode()
    assert 'name="confirm_implausible" value="tumor_size_cm"' in html
    assert "The value is correct: largest tumor diameter 25 cm" in html
    # The box comes right after the value's own field, before the next field.
    assert html.index('value="tumor_size_cm"') < html.index('name="tumor_count"')


def test_a_confirmed_value_is_saved_and_the_confirmation_is_in_the_history(clinician_client):
    data = form_data(tumor_size_cm="25", confirm_implausible="tumor_size_cm")
    response = clinician_client.post(reverse("assessments:create"), data)
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert assessment.tumor_size_cm == Decimal("25.0")
    assert assessment.confirmations == ["tumor_size_cm"]
    assert assessment.history.get().confirmations == ["tumor_size_cm"]
    history = clinician_client.get(reverse("assessments:history", args=[assessment.pk]))
    assert "Confirmed as correct" in history.content.decode()


def test_an_amendment_asks_again_and_records_the_new_confirmations(clinician_client, clinician):
    assessment = record(clinician, tumor_size_cm="25")
    assert assessment.confirmations == ["tumor_size_cm"]
    url = reverse("assessments:edit", args=[assessment.pk])
    refused = clinician_client.post(url, amend_data(assessment))
    assert refused.status_code == 200
    assert "outside the usual range" in refused.content.decode()
    response = clinician_client.post(
        url, amend_data(assessment, tumor_size_cm="2.5", change_reason="Slip: 2.5 cm, not 25.")
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.confirmations == []
    changes = {
        change["field"]: change
        for change in clinician_client.get(
            reverse("assessments:history", args=[assessment.pk])
        ).context["versions"][0]["changes"]
    }
    assert changes["confirmations"]["old"] == "Largest tumor diameter (cm)"
    assert changes["confirmations"]["new"] == "(none)"


def test_the_preview_still_scores_an_unusual_value(clinician_client):
    response = clinician_client.post(reverse("assessments:preview"), form_data(tumor_size_cm="25"))
    html = response.content.decode()
    assert 'data-state="result"' in html
    assert 'data-recommendation="recommended"' in html  # > 5 cm: high risk
    assert "outside the usual range" in html


def recommend(obj) -> str:
    out = io.StringIO()
    saved, sys.stdin = sys.stdin, io.StringIO(json.dumps(obj))
    try:
        call_command("recommend", stdout=out)
    finally:
        sys.stdin = saved
    return json.loads(out.getvalue())


def test_scoring_alone_takes_unusual_values_unconfirmed(clinician):
    inputs = {k: v for k, v in form_data(tumor_size_cm="25").items() if k not in ("mrn", "notes")}
    del inputs["resection_date"]
    assert recommend(inputs)["recommendation"] == "recommended"
    api = Api(token_for(clinician))
    response = api.post("evaluate", inputs)
    assert response.status_code == 200, response.json()
    assert response.json()["recommendation"] == "recommended"


def api_body(**changes):
    body = form_data(**changes)
    body["tumor_count"] = int(body["tumor_count"])
    return body


def test_the_api_create_and_amend_refuse_until_confirm_implausible_is_true(clinician):
    api = Api(token_for(clinician))
    refused = api.post("assessments", api_body(tumor_size_cm="25"))
    assert refused.status_code == 400
    [message] = refused.json()["errors"]["tumor_size_cm"]
    assert message.startswith("The largest tumor diameter, 25 cm, is outside the usual range")
    assert '"confirm_implausible": true' in message
    assert Assessment.objects.count() == 0
    not_boolean = api.post(
        "assessments", {**api_body(tumor_size_cm="25"), "confirm_implausible": "yes"}
    )
    assert not_boolean.json()["errors"]["confirm_implausible"] == ["Enter true or false."]
    created = api.post("assessments", {**api_body(tumor_size_cm="25"), "confirm_implausible": True})
    assert created.status_code == 201, created.json()
    assessment = Assessment.objects.get()
    assert assessment.confirmations == ["tumor_size_cm"]

    body = {**api_body(tumor_count="12", tumor_size_cm="25"), "reason": "Count from pathology."}
    del body["mrn"]
    path = f"assessments/{assessment.pk}/amend"
    refused = api.post(path, body, **{"If-Match": '"1"'})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"tumor_size_cm", "tumor_count"}
    amended = api.post(path, {**body, "confirm_implausible": True}, **{"If-Match": '"1"'})
    assert amended.status_code == 200, amended.json()
    assessment.refresh_from_db()
    assert assessment.confirmations == ["tumor_size_cm", "tumor_count"]


# A possible duplicate: the same MRN and resection within a day.


def test_a_second_assessment_of_the_same_resection_asks_for_confirmation(
    clinician_client, other_clinician
):
    other_clinician.first_name, other_clinician.last_name = "Li", "Wei"
    other_clinician.save()
    first = record(other_clinician, mrn="PLAUS-1", resection_date=form_data()["resection_date"])
    response = clinician_client.post(reverse("assessments:create"), form_data())
    assert response.status_code == 200
    assert Assessment.objects.count() == 1
    html = response.content.decode()
    assert "data-duplicate" in html
    assert "was saved at" in html and "by Li Wei" in html
    assert first.get_absolute_url() in html
    response = clinician_client.post(
        reverse("assessments:create"), form_data(confirm_duplicate="possible_duplicate")
    )
    assert response.status_code == 302
    second = Assessment.objects.order_by("-id").first()
    assert second.confirmations == ["possible_duplicate"]


@pytest.mark.parametrize(
    ("changes", "duplicate"),
    [
        ({}, True),
        ({"resection_date": (timezone.localdate() - timedelta(days=31)).isoformat()}, False),
        ({"mrn": "PLAUS-2"}, False),
    ],
)
def test_only_the_same_mrn_and_resection_is_a_duplicate(clinician, changes, duplicate):
    record(clinician, mrn="PLAUS-1", resection_date=form_data()["resection_date"])
    form = AssessmentForm(data=form_data(**changes))
    assert form.is_valid() != duplicate
    assert ("confirm_duplicate" in form.errors) == duplicate


def test_a_day_later_or_a_voided_first_is_no_duplicate(clinician):
    first = record(clinician, mrn="PLAUS-1", resection_date=form_data()["resection_date"])
    Assessment.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(days=1, seconds=1)
    )
    assert AssessmentForm(data=form_data()).is_valid()
    second = record(clinician, mrn="PLAUS-1", resection_date=form_data()["resection_date"])
    assert not AssessmentForm(data=form_data()).is_valid()
    second.status = Assessment.Status.VOIDED
    second.save()
    assert AssessmentForm(data=form_data()).is_valid()


def test_the_api_refuses_a_duplicate_unless_confirm_duplicate_is_true(clinician):
    api = Api(token_for(clinician))
    assert api.post("assessments", api_body()).status_code == 201
    refused = api.post("assessments", api_body())
    assert refused.status_code == 400
    [message] = refused.json()["errors"]["confirm_duplicate"]
    assert "was saved at" in message and '"confirm_duplicate": true' in message
    created = api.post("assessments", {**api_body(), "confirm_duplicate": True})
    assert created.status_code == 201
    assert Assessment.objects.count() == 2


def test_the_schema_documents_the_confirmations_as_booleans(clinician):
    schema = Api(token_for(clinician)).get("schema/", {"format": "json"}).json()
    properties = schema["components"]["schemas"]["AssessmentInputRequest"]["properties"]
    for name in ("confirm_implausible", "confirm_duplicate"):
        assert properties[name]["type"] == "boolean", properties[name]
    amend = schema["components"]["schemas"]["AmendInputRequest"]["properties"]
    assert amend["confirm_implausible"]["type"] == "boolean"
    assert "confirm_duplicate" not in amend
