"""Ruleset 2 on the web: the panel, the preview's access, the rules page, re-evaluation."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from assessments import rules
from assessments.models import Assessment
from tests.factories import PANEL, record, ruleset_1_assessment

pytestmark = pytest.mark.django_db


def test_new_assessment_with_a_panel(clinician_client, valid_data):
    response = clinician_client.post(reverse("assessments:create"), {**valid_data, **PANEL})
    assert response.status_code == 302
    assessment = Assessment.objects.get()
    assert assessment.ruleset == "4"
    assert assessment.bilirubin == Decimal("3.0") and assessment.bilirubin_unit == "mg_dl"
    # 51.3 umol/L: 2; 34 g/L: 2; INR 1.8: 2; mild ascites: 2; none: 1 -> 9, class B
    assert assessment.liver_function == {
        "child_pugh_score": 9,
        "child_pugh_class": "B",
        "albi_score": Decimal("-1.761"),
        "albi_grade": 2,
    }
    assert assessment.contraindications == ["child_pugh_b8_b9"]
    # Ruleset 4 says B9 once, as the contraindication.
    assert assessment.cautions == ["decompensation_signs"]
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert 'data-child-pugh-class="B"' in html
    assert "3 mg/dL" in html and "3.4 g/dL" in html and "<td>1.8</td>" in html
    assert re.search(r"Child-Pugh score \(class B\)</th><td>9</td>", html)
    assert "ALBI score <strong>-1.761</strong>, grade <strong>2</strong>" in html


def test_a_partial_panel_is_refused_on_the_web(clinician_client, valid_data):
    data = {**valid_data, "bilirubin": "20", "bilirubin_unit": "umol_l", "albumin_unit": "g_l"}
    response = clinician_client.post(reverse("assessments:create"), data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"albumin", "inr", "ascites", "encephalopathy"}
    assert not Assessment.objects.exists()


def test_out_of_range_in_the_unit_chosen(clinician_client, valid_data):
    data = {**valid_data, **PANEL, "bilirubin": "60"}
    response = clinician_client.post(reverse("assessments:create"), data)
    assert "Bilirubin must be between 0.06 and 58.0 mg/dL." in response.content.decode()
    assert not Assessment.objects.exists()


# The live preview


def test_preview_refuses_anonymous_users(client):
    response = client.post(reverse("assessments:preview"), {"tumor_size_cm": "6"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_preview_refuses_reviewers(reviewer_client):
    assert reviewer_client.post(reverse("assessments:preview"), {}).status_code == 403


def test_preview_is_post_only(clinician_client):
    assert clinician_client.get(reverse("assessments:preview")).status_code == 405


# The rules page


def test_rules_page_shows_every_code_the_engine_can_emit(clinician_client):
    html = clinician_client.get(reverse("assessments:rules")).content.decode()
    shown = set(re.findall(r'data-code="([a-z0-9_]+)"', html))
    assert shown == set().union(*rules.RULESET_CODES.values())
    for code in shown:
        rulesets = [r for r in rules.RULESETS if code in rules.RULESET_CODES[r]]
        assert re.search(rf'data-code="{code}">.*?<td>{" and ".join(rulesets)}</td></tr>', html)
    for sentence in [*rules.RISK_FACTORS.values(), *rules.CAUTIONS.values()]:
        sentence = rules.sentence(sentence, list(rules.ADVERSE_FINDINGS))
        assert sentence.replace("'", "&#x27;") in html
    assert f"larger than {rules.TUMOR_SIZE_THRESHOLD_CM} cm" in html
    assert "Grade 1 if ≤ -2.60" in html
    assert "Wei W et al." in html
    assert "EASL Clinical Practice Guidelines" in html
    assert "Current ruleset: 4" in html


def test_every_result_links_to_the_rules(clinician_client, clinician):
    assessment = record(clinician)
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert reverse("assessments:rules") in html


# Ruleset 1 assessments keep their ruleset; re-evaluation is an amendment


def test_old_assessments_keep_their_ruleset_and_result(clinician_client, clinician):
    old = ruleset_1_assessment(clinician)
    html = clinician_client.get(old.get_absolute_url()).content.decode()
    assert "Ruleset 1" in html
    assert 'data-newer-ruleset="4"' in html
    assert reverse("assessments:reevaluate", args=[old.pk]) in html
    old.refresh_from_db()
    assert old.ruleset == "1"
    assert old.cautions == ["moderate_cirrhosis"]


def test_amending_an_old_assessment_keeps_ruleset_1(clinician_client, clinician):
    old = ruleset_1_assessment(clinician)
    url = reverse("assessments:edit", args=[old.pk])
    form = clinician_client.get(url).context["form"]
    assert "bilirubin" not in form.fields
    data = {
        "resection_date": old.resection_date.isoformat(),
        "tumor_size_cm": "6.0",
        "tumor_count": "1",
        "vascular_invasion": "microvascular",
        "cirrhosis_grade": "moderate",
        "prior_adjuvant_tace_sessions": "0",
        "change_reason": "Corrected size",
        "version": "1",
    }
    assert (
        clinician_client.post(url, {**data, "vascular_invasion": "portal_vein_main"}).status_code
        == 200
    )
    assert clinician_client.post(url, data).status_code == 302
    old.refresh_from_db()
    assert old.ruleset == "1"
    assert old.tumor_size_cm == Decimal("6.0")


def test_reevaluation_under_the_newest_ruleset_is_recorded_in_history(clinician_client, clinician):
    old = ruleset_1_assessment(clinician)
    url = reverse("assessments:reevaluate", args=[old.pk])
    assert clinician_client.get(url).status_code == 200
    data = {
        "resection_date": old.resection_date.isoformat(),
        "tumor_size_cm": "4.0",
        "tumor_count": "1",
        "vascular_invasion": "microvascular",
        "cirrhosis_grade": "moderate",
        "prior_adjuvant_tace_sessions": "0",
        "version": "1",
        **PANEL,
        "ascites": "moderate_severe",
        "encephalopathy": "grade_1_2",
    }
    response = clinician_client.post(url, data)
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.ruleset == "4"
    assert old.child_pugh_class == "C"  # 2 + 2 + 2 + 3 + 2 = 11
    assert old.contraindications == ["child_pugh_c"]
    assert old.recommendation == "not_recommended"
    latest = old.history.first()
    assert latest.action == "amended"
    assert latest.history_change_reason == "re-evaluated under ruleset 4"
    assert latest.history_user == clinician
    assert old.history.last().ruleset == "1"
    # The history shows what the re-evaluation added and changed.
    history = clinician_client.get(reverse("assessments:history", args=[old.pk]))
    changes = {c["field"]: (c["old"], c["new"]) for c in history.context["versions"][0]["changes"]}
    assert changes["ruleset"] == ("1", "4")
    assert changes["bilirubin"] == ("(none)", "3.00")
    assert changes["bilirubin_unit"] == ("(none)", "mg/dL")
    assert changes["child_pugh_class"] == ("(none)", "C")
    assert changes["recommendation"] == ("Recommended", "Not recommended")
    # Once under ruleset 4 there is nothing newer to move to.
    response = clinician_client.get(url, follow=True)
    assert response.redirect_chain == [(old.get_absolute_url(), 302)]
    assert "already under the newest ruleset, 4" in response.content.decode()


def test_a_ruleset_2_assessment_moves_to_the_newest_ruleset(clinician_client, clinician):
    """Child-Pugh B9 recommended under ruleset 2 is contraindicated under ruleset 3."""
    old = ruleset_1_assessment(clinician, ruleset="2", tumor_size_cm=Decimal("6.0"))
    assert old.recommendation == "recommended"
    html = clinician_client.get(old.get_absolute_url()).content.decode()
    assert 'data-newer-ruleset="4"' in html
    data = {
        "resection_date": old.resection_date.isoformat(),
        "tumor_size_cm": "6.0",
        "tumor_count": "1",
        "vascular_invasion": "microvascular",
        "cirrhosis_grade": "moderate",
        "version": "1",
        **PANEL,
    }
    url = reverse("assessments:reevaluate", args=[old.pk])
    response = clinician_client.post(url, data, follow=True)
    assert response.redirect_chain == [(old.get_absolute_url(), 302)]
    assert (
        "Re-evaluated under ruleset 4: the recommendation changed from Recommended to "
        "Not recommended." in response.content.decode()
    )
    old.refresh_from_db()
    assert (old.ruleset, old.recommendation) == ("4", "not_recommended")
    assert old.contraindications == ["child_pugh_b8_b9"]
    assert old.history.first().history_change_reason == "re-evaluated under ruleset 4"


def test_reevaluation_refused_for_reviewers(reviewer_client, clinician):
    old = ruleset_1_assessment(clinician)
    assert reviewer_client.get(reverse("assessments:reevaluate", args=[old.pk])).status_code == 403
