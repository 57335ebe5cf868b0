"""recommend --jsonl's batch path: the same form, the same results and the same errors.

A long input is scored by a pool of processes, each with its own reused form: it must
write exactly what one process scoring line by line writes, in the same order, with
the same exit code, for valid and invalid lines alike.
"""

import io
import json

import pytest
from django.core.management import call_command
from django.forms import BoundField, ChoiceField
from django.http import QueryDict

from assessments import rules
from assessments.forms import AMEND_FORMS, RULESET_FORMS, AssessmentForm, CodeField, VoidForm
from assessments.forms.fields import ByNameBoundField
from assessments.management.commands import recommend as command
from tests.assessments.test_commands import recommend
from tests.assessments.test_json_input import BASE, NOT_A_VALUE, PANEL, line

PATHOLOGY = {
    "resection_margin": "r1",
    "satellite_nodules": "yes",
    "mvi_grade": "m2",
    "afp_before_ng_ml": "400.5",
    "afp_after_ng_ml": 20,
    "tumor_rupture": "no",
}
MVI = {**BASE, "vascular_invasion": "microvascular"}
LINES = [
    json.dumps(BASE),
    json.dumps({**BASE, **PANEL}),
    json.dumps({**MVI, **PANEL, **PATHOLOGY}),
    json.dumps({**BASE, "mvi_grade": "m2"}),  # contradicts the invasion (ruleset 4)
    json.dumps({**BASE, **PANEL, "bilirubin_unit": None}),  # a panel without its unit
    json.dumps({**BASE, "bilirubin": "20"}),  # a partial panel
    json.dumps({**BASE, **PANEL, "bilirubin": "2000"}),  # out of the unit's range
    json.dumps({**BASE, "prior_adjuvant_tace_sessions": None}),
    json.dumps({**BASE, "unknown": 1, "tumour_size_cm": "5"}),  # unknown fields
    json.dumps({"tumor_size_cm": "6.0"}),  # required fields missing
    '{"tumor_size_cm": 5.1, "tumor_count": 1.0, "vascular_invasion": "none", '
    '"cirrhosis_grade": "none"}',  # floats, decoded as Decimal: the float trap
    '{"tumor_size_cm": 5.10000000000000001, "tumor_count": 1, "vascular_invasion": '
    '"none", "cirrhosis_grade": "none"}',
    json.dumps(BASE)[:-1] + ', "tumor_count": 2}',  # a key given twice
    "[1, 2]",
    "not json",
    "",
    *(
        line(field, value)
        for field in ("tumor_size_cm", "tumor_count", "inr")
        for value in NOT_A_VALUE
    ),
    *(line(field, '"none "') for field in ("vascular_invasion", "ascites")),
    line("afp_before_ng_ml", "-1"),
]
RULESETS = list(rules.RULESETS)


@pytest.mark.parametrize("form_class", [*RULESET_FORMS.values(), AssessmentForm])
def test_a_code_is_checked_against_the_same_codes_as_django_checks(form_class):
    """CodeField keeps its codes in a set: the same answers as ChoiceField's own test."""
    fields = [f for f in form_class(json_input=True).fields.values() if isinstance(f, CodeField)]
    assert fields
    for field in fields:
        for value in [*(str(code) for code, _ in field.choices), "NONE", "none ", "1", "x"]:
            assert field.valid_value(value) is ChoiceField.valid_value(field, value), value


def test_grouped_and_lazy_choices_are_checked_as_django_checks():
    grouped = CodeField(choices=[("a", "A"), ("Group", [("b", "B")])])
    lazy = CodeField(choices=lambda: [("a", "A")])
    for field, value, expected in [
        (grouped, "b", True),
        (grouped, "Group", False),
        (lazy, "a", True),
    ]:
        assert field.valid_value(value) is expected
    grouped.choices = [("c", "C")]  # new choices: new codes
    assert grouped.valid_value("c") and not grouped.valid_value("a")


@pytest.mark.parametrize(
    "form_class", [*RULESET_FORMS.values(), AssessmentForm, AMEND_FORMS["4"], VoidForm]
)
def test_json_fields_read_the_value_the_widget_reads(form_class):
    """ByNameBoundField reads data.get(name): what the widget itself reads, from a dict
    or a form-encoded body alike; a widget that reads otherwise keeps Django's way."""
    names = list(form_class.base_fields)
    for data in [
        {name: f"v-{name}" for name in names},
        QueryDict("&".join(f"{name}=a&{name}=b" for name in names)),
    ]:
        form = form_class(data=data, json_input=True)
        by_name = [form[name] for name in names if isinstance(form[name], ByNameBoundField)]
        assert by_name
        for bound in form:
            assert bound.data == BoundField.data.fget(bound), bound.name
    assert not isinstance(
        AssessmentForm(data={}, json_input=True)["confirm_duplicate"], ByNameBoundField
    )
    assert type(form_class(data={})[names[0]]) is BoundField  # the web form: Django's own


@pytest.mark.parametrize("ruleset", RULESETS)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_pool_writes_what_one_process_writes_in_order(monkeypatch, ruleset, language):
    text = "\n".join(LINES * 3) + "\n"
    args = ("--jsonl", "--ruleset", ruleset, "--language", language)
    monkeypatch.setattr(command.os, "sched_getaffinity", lambda pid: {0})
    one_code, one_process = recommend(monkeypatch, text, *args)
    monkeypatch.setattr(command.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(command, "CHUNK", 4)
    pool_code, pool = recommend(monkeypatch, text, *args)
    assert pool == one_process
    assert pool_code == one_code == 2
    assert len(pool.splitlines()) == len(LINES) * 3


def test_a_pool_exits_0_when_every_line_is_valid(monkeypatch):
    monkeypatch.setattr(command, "CHUNK", 2)
    monkeypatch.setattr(command.os, "sched_getaffinity", lambda pid: {0, 1})
    code, out = recommend(monkeypatch, f"{LINES[1]}\n" * 5, "--jsonl")
    assert code == 0
    assert [json.loads(row)["ruleset"] for row in out.splitlines()] == [rules.LATEST_RULESET] * 5


@pytest.mark.parametrize("text", ["", "\n".join(LINES[:3]) + "\n"])
def test_one_process_writes_one_line_per_line_and_nothing_for_nothing(monkeypatch, text):
    code, out = recommend(monkeypatch, text, "--jsonl")
    assert out.count("\n") == len(text.splitlines())
    assert code == 0


class Terminal:
    """A terminal's stdin: lines come one by one, and each read is recorded."""

    def __init__(self, lines, events):
        self.lines, self.events = lines, events

    def isatty(self):
        return True

    def __iter__(self):
        for typed in self.lines:
            self.events.append("read")
            yield typed


class Screen(io.StringIO):
    def __init__(self, events):
        super().__init__()
        self.events = events

    def write(self, text):
        self.events.append("write")
        return super().write(text)


def test_lines_typed_at_a_terminal_are_scored_as_they_come(monkeypatch):
    events = []
    monkeypatch.setattr("sys.stdin", Terminal([f"{LINES[1]}\n", "not json\n"], events))
    screen = Screen(events)
    with pytest.raises(SystemExit):
        call_command("recommend", "--jsonl", stdout=screen)
    assert events == ["read", "write", "read", "write"]
    assert [list(json.loads(row)) for row in screen.getvalue().splitlines()][1] == ["errors"]
