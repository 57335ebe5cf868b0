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
from tests.conftest import PANEL, record

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
