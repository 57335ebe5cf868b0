"""A 400 says what is wrong in the app's words, never Python's exception text (the
JSON decoder's "Expecting value: line 1 column 1 (char 0)", Django's field errors)."""

import base64

import pytest

from tests.factories import record

pytestmark = pytest.mark.django_db

PYTHON = ("Expecting", "char ", "recursion", "decod", "Extra data", "codec", "format.")


def assert_own_words(messages):
    for message in messages:
        assert not any(text in message for text in PYTHON), message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{", "Not valid JSON: look at line 1, column 2"),
        (b'{"a": 1}\n x', "Not valid JSON: look at line 2, column 2"),
        (b"[" * 100_000, "Not valid JSON: it is nested too deeply."),
        (b'{"notes": "\xff"}', "Not valid JSON: send it as UTF-8 text."),
    ],
)
def test_a_body_that_is_not_json(clinician_api, raw, expected):
    response = clinician_api.post("evaluate", raw=raw)
    assert response.status_code == 400
    messages = response.json()["errors"]["__all__"]
    assert messages[0].startswith(expected)
    assert_own_words(messages)


def test_the_same_words_in_chinese(clinician_api):
    response = clinician_api.client.post(
        "/api/v1/evaluate",
        "{",
        content_type="application/json",
        headers={**clinician_api.headers, "Accept-Language": "zh-hans"},
    )
    assert response.status_code == 400
    assert "第 1 行" in response.json()["errors"]["__all__"][0]


@pytest.mark.parametrize(
    "cursor",
    [
        base64.b64encode(b"p=2026").decode(),  # a position that is not a time
        base64.b64encode(b"p=2026-01-01T00:00:00Z&r=1&o=x").decode(),
        "not-base64!",
    ],
)
def test_a_forged_cursor_is_refused_in_words(clinician_api, clinician, cursor):
    record(clinician)
    response = clinician_api.get("assessments", {"cursor": cursor})
    assert response.status_code == 404
    messages = response.json()["errors"]["__all__"]
    assert messages == ["This cursor is not one the API gave: follow `next` as answered."]


def test_a_body_in_another_charset_is_refused_as_json(clinician_api):
    response = clinician_api.client.post(
        "/api/v1/evaluate",
        "{}",
        content_type="application/json; charset=latin-1",
        headers=clinician_api.headers,
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"__all__": ["Send the body as UTF-8."]}}
