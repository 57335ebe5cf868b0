"""Random and hostile input: never a server error, never a partial save, always escaped."""

import json
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments import rules
from assessments.forms import RULESET_FORMS, JsonValidator
from assessments.management.commands.recommend import score
from assessments.models import Assessment, Patient
from common.jsonio import encode

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
HOSTILE = [
    "",
    " ",
    "-1",
    "0",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e5",
    "5e0",
    "1E-7",
    "1e999999999",
    "9" * 5000,
    "٣",  # an Arabic-Indic digit
    "５.０",  # full-width digits
    "5,1",
    "5.1\x00",
    "\x00",
    "x" * 1_000_000,
    "' OR 1=1; DROP TABLE assessments_assessment; --",
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "none",
    "portal_vein_main",
    "severe",
    "mg_dl",
    "2026-01-05",
    "0001-01-01",
    "9999-12-31",
    "DEMO-1",
    "ß" * 32,
]
FIELDS = [
    "mrn",
    "resection_date",
    "tumor_size_cm",
    "tumor_count",
    "vascular_invasion",
    "cirrhosis_grade",
    "prior_adjuvant_tace_sessions",
    "bilirubin",
    "bilirubin_unit",
    "albumin",
    "albumin_unit",
    "inr",
    "ascites",
    "encephalopathy",
    "notes",
]
VALID = {
    "mrn": "H-1",
    "resection_date": (date.today() - timedelta(days=30)).isoformat(),
    "tumor_size_cm": "5.1",
    "tumor_count": "2",
    "vascular_invasion": "microvascular",
    "cirrhosis_grade": "mild",
}

value = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
)
# Each example: some fields valid, others hostile or missing.
form_data = st.dictionaries(st.sampled_from(FIELDS), value, max_size=len(FIELDS)).map(
    lambda hostile: {**VALID, **hostile}
)


def too_big(data: dict) -> bool:
    """Whether the form fields pass Django's limit, counted as its multipart parser does."""
    size = sum(len(key) + 2 + len(value.encode()) for key, value in data.items())
    return size > django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE


examples = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@examples
@given(data=form_data)
def test_the_web_form_never_fails(clinician_client, data):
    before = Assessment.objects.count(), Patient.objects.count()
    response = clinician_client.post(reverse("assessments:create"), data)
    # 400 for a body over Django's size limit (DATA_UPLOAD_MAX_MEMORY_SIZE), and only then.
    assert (response.status_code == 400) is too_big(data)
    assert response.status_code in (200, 302, 400)
    after = Assessment.objects.count(), Patient.objects.count()
    if response.status_code == 302:
        assert after[0] == before[0] + 1
    else:
        assert after == before
    if response.status_code == 200:
        assert SCRIPT not in response.content.decode()


@examples
@given(data=form_data)
def test_the_preview_never_fails(clinician_client, data):
    response = clinician_client.post(reverse("assessments:preview"), data)
    assert response.status_code == (400 if too_big(data) else 200)
    if response.status_code == 200:
        html = response.content.decode()
        assert html.lstrip().startswith(
            ('<div data-state="result"', '<div data-state="incomplete"')
        )
        assert SCRIPT not in html
    assert not Assessment.objects.exists()


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.sampled_from(HOSTILE[:18]),
        st.text(max_size=20),
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=5,
)
json_line = st.one_of(
    st.dictionaries(st.sampled_from([*FIELDS[2:14], "unknown", "__all__"]), json_value).map(
        lambda hostile: json.dumps({**{k: VALID[k] for k in list(VALID)[2:]}, **hostile})
    ),
    st.text(max_size=200),
    st.sampled_from(
        ["NaN", "[1e400]", '{"tumor_size_cm": 1e400}', '{"a": Infinity}', "[" * 100_000]
    ),
)


@settings(max_examples=200, deadline=None)
@given(line=json_line, ruleset=st.sampled_from(rules.RULESETS))
def test_the_command_line_always_answers_in_json(line, ruleset):
    result, valid = score(line, ruleset, JsonValidator(RULESET_FORMS[ruleset]))
    output = json.loads(encode(result))
    assert ("errors" not in output) is valid
    if valid:
        assert output["recommendation"] in ("recommended", "not_recommended")
    else:
        assert all(isinstance(messages, list) for messages in output["errors"].values())
