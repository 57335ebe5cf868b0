"""English and Simplified Chinese: a complete catalogue, and codes that never change."""

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from assessments import rules, wording
from assessments.models import Assessment
from followup import services as followup_services
from tests.factories import PANEL, record, ruleset_1_assessment

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}


def test_the_catalogue_is_complete_and_compiles():
    catalogue = polib.pofile(str(CATALOGUE))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    assert len(catalogue.translated_entries()) > 250
    subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(CATALOGUE)], check=True)


def test_every_marked_string_is_in_the_catalogue(tmp_path):
    """makemessages, run on a copy of the code, adds nothing the catalogue lacks."""
    copy = tmp_path / "app"
    skip = shutil.ignore_patterns(".*", "static*", "docs", "bench", "tests", "*.sqlite3*", "test-*")
    shutil.copytree(ROOT, copy, ignore=skip)
    env = {**os.environ, "DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/db"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = polib.pofile(str(copy / CATALOGUE.relative_to(ROOT)))
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(CATALOGUE))}
    missing = [
        e.msgid for e in extracted if not e.obsolete and (e.msgctxt, e.msgid) not in committed
    ]
    assert missing == [], "run make messages, then translate the new entries"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_codes_and_the_stored_rationale_never_change_with_the_language(clinician, language):
    with translation.override(language):
        assessment = record(clinician, tumor_size_cm="6.0", **PANEL)
    assessment.refresh_from_db()
    english = rules.evaluate(assessment.rule_inputs, ruleset=assessment.ruleset)
    assert assessment.rationale == english.rationale
    assert assessment.contraindications == ["child_pugh_b8_b9"]
    with translation.override("zh-hans"):
        shown = wording.rationale(assessment)
    assert shown[0] == "最大肿瘤直径大于 5 cm：复发风险高。"
    assert len(shown) == len(assessment.rationale)


def test_the_english_rationale_shown_is_the_stored_one(clinician):
    """Made again from the codes, the rationale reads as it was stored, in every ruleset."""
    with translation.override("en"), override_settings(DEBUG=True):
        call_command("seed_demo", count=200, stdout=io.StringIO())
        assessments = list(Assessment.objects.all())
        assert {a.ruleset for a in assessments} == set(rules.RULESETS)
        for assessment in assessments:
            assert wording.rationale(assessment) == assessment.rationale


def recommend(monkeypatch, text, *args):
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    out = io.StringIO()
    call_command("recommend", *args, stdout=out)
    return json.loads(out.getvalue())


def test_recommend_gives_the_rationale_in_the_language_asked(monkeypatch):
    line = json.dumps(
        {
            "tumor_size_cm": "6.0",
            "tumor_count": 1,
            "vascular_invasion": "none",
            "cirrhosis_grade": "none",
        }
    )
    english = recommend(monkeypatch, line)
    chinese = recommend(monkeypatch, line, "--language", "zh-hans")
    assert {k: v for k, v in chinese.items() if k != "rationale"} == {
        k: v for k, v in english.items() if k != "rationale"
    }
    assert english["rationale"][0] == rules.RISK_FACTORS["tumor_gt_5cm"]
    assert chinese["rationale"][0] == "最大肿瘤直径大于 5 cm：复发风险高。"
    assert chinese["cautions"] == ["liver_panel_missing"]


@pytest.mark.django_db
def test_the_language_comes_from_the_browser_and_the_menu(client):
    assert '<html lang="en">' in client.get(reverse("login")).content.decode()
    html = client.get(reverse("login"), **ZH).content.decode()
    assert '<html lang="zh-hans">' in html and "登录" in html
    response = client.post(
        reverse("set_language"),
        {"language": "zh-hans"},
        HTTP_REFERER="http://testserver/accounts/login/",
    )
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/accounts/login/"
    assert response.cookies["django_language"].value == "zh-hans"
    assert response.cookies["django_language"]["httponly"]
    assert '<html lang="zh-hans">' in client.get(reverse("login")).content.decode()


# Sentences of the English pages; none may remain on a page in Chinese.
ENGLISH = [
    "Skip to main content",
    "Log out",
    "Change password",
    "This tool supports",
    "Worklist",
    "Assessments",
    "New assessment",
    "Audit log",
    "Risk of recurrence",
    "Adjuvant TACE recommended",
    "Adjuvant TACE not recommended",
    "High-risk factors",
    "Rationale",
    "Computed from",
    "Largest tumor diameter",
    "Cirrhosis grade",
    "Vascular invasion",
    "The largest tumor is larger than",
    "No liver-function panel",
    "first session",
    "Draft",
    "Signed",
    "Save and show recommendation",
    "Save amendment",
    "Re-evaluate and save",
    "Sign as reviewed and approved",
    "Void assessment",
    "Cancel",
    "Every version, newest first",
    "The rules and their evidence",
    "When to use it",
    "Sources",
    "Fires when",
    "No events match",
    "Filter",
    "Page not found",
    "You do not have permission",
    "Too many failed logins",
    "Log in",
    "Preview",
    "still missing or invalid",
    "Recommendation",
    "Status",
    # A header: group names (Clinicians, ...) are data and stay as they were named.
    "Clinician</th>",
    "Print",
    "Outcomes",
    "Recurrence-free survival",
    "observational data",
    "Number at risk",
    "not reached",
    "Download these figures",
]


def english_left(html: str) -> list[str]:
    return [sentence for sentence in ENGLISH if sentence in html]


@pytest.fixture
def pages(client, clinician, consultant, reviewer, no_role_user):
    """Every page of the app in Chinese, by name: (the user who sees it, how)."""
    assessment = record(clinician, tumor_size_cm="6.0", **PANEL)
    old = ruleset_1_assessment(clinician)
    pk, patient = assessment.pk, assessment.patient.pk
    event = followup_services.record_event(
        patient=assessment.patient,
        kind="tace_session",
        data={
            "date": assessment.resection_date,
            "assessment": assessment,
            "complications": "minor",
        },
        user=clinician,
    )
    preview_data = {"mrn": "MRN-1", "tumor_size_cm": "6.0"}
    return {
        "worklist": (clinician, "get", reverse("assessments:worklist"), None),
        "list": (clinician, "get", reverse("assessments:list"), None),
        "form": (clinician, "get", reverse("assessments:create"), None),
        "preview": (clinician, "post", reverse("assessments:preview"), preview_data),
        "detail": (clinician, "get", reverse("assessments:detail", args=[pk]), None),
        "print": (clinician, "get", reverse("assessments:print", args=[pk]), None),
        "history": (clinician, "get", reverse("assessments:history", args=[pk]), None),
        "patient": (clinician, "get", reverse("assessments:patient", args=[patient]), None),
        "session form": (
            clinician,
            "get",
            reverse("assessments:event_create", args=[patient, "tace_session"]),
            None,
        ),
        "death form": (
            clinician,
            "post",
            reverse("assessments:event_create", args=[patient, "death"]),
            {"date": "2999-01-01"},
        ),
        "event": (clinician, "get", reverse("assessments:event", args=[event.pk]), None),
        "event amend": (clinician, "get", reverse("assessments:event_edit", args=[event.pk]), None),
        "event void": (clinician, "get", reverse("assessments:event_void", args=[event.pk]), None),
        "sign": (consultant, "get", reverse("assessments:sign", args=[pk]), None),
        "sign refused": (clinician, "get", reverse("assessments:sign", args=[pk]), None),
        "void": (clinician, "get", reverse("assessments:void", args=[pk]), None),
        "amend": (clinician, "get", reverse("assessments:edit", args=[pk]), None),
        "re-evaluate": (clinician, "get", reverse("assessments:reevaluate", args=[old.pk]), None),
        "rules": (clinician, "get", reverse("assessments:rules"), None),
        "audit log": (reviewer, "get", reverse("assessments:audit_log"), None),
        "outcomes": (reviewer, "get", reverse("assessments:outcomes"), None),
        "password": (clinician, "get", reverse("password_change"), None),
        "login": (None, "get", reverse("login"), None),
        "403": (no_role_user, "get", reverse("assessments:list"), None),
        "404": (clinician, "get", "/no-such-page/", None),
    }


@pytest.mark.django_db
def test_every_page_renders_in_chinese(client, pages):
    found = {}
    for name, (user, method, url, data) in pages.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(url, data or {}, **ZH)
        html = response.content.decode()
        if name != "preview":  # a fragment of the form's page
            assert '<html lang="zh-hans">' in html, name
        found[name] = english_left(html)
    assert found == dict.fromkeys(pages, []), found


@pytest.mark.django_db
def test_the_lockout_page_renders_in_chinese(client, clinician):
    for _ in range(5):
        response = client.post(
            reverse("login"), {"username": "dr-lee", "password": "wrong-password"}, **ZH
        )
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录失败次数过多" in html
    assert english_left(html) == []


@pytest.mark.django_db
def test_dates_follow_the_language(client, clinician):
    assessment = record(clinician, tumor_size_cm="6.0")
    client.force_login(clinician)
    day = assessment.resection_date
    url = assessment.get_absolute_url()
    assert f"{day.day} {day:%b} {day.year}" in client.get(url).content.decode()
    chinese = client.get(url, **ZH).content.decode()
    assert f"{day.year}年{day.month}月{day.day}日" in chinese
