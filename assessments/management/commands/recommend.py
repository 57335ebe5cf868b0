import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from assessments import rules, wording
from assessments.forms import RULESET_FORMS, JsonValidator
from common.jsonio import encode, parse_json

INVALID = 2


def score(text: str, ruleset: str, validate: JsonValidator, language: str = "en"):
    """Score one JSON document; return (output object, whether it was valid).

    Codes are the same in every language; the rationale is in the language given.
    """
    obj, errors = parse_json(text)
    if not errors:
        form, errors = validate(obj)
    if errors:
        return {"errors": errors}, False
    result = rules.evaluate(rules.Inputs.from_data(form.cleaned_data), ruleset=ruleset)
    output = result.as_dict()
    if language != "en":
        with translation.override(language):
            output["rationale"] = wording.rationale(result)
    return output, True


class Command(BaseCommand):
    help = (
        "Read rule inputs as one JSON object on stdin and print the adjuvant TACE "
        "recommendation as JSON. Exit 2 if the input is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--jsonl",
            action="store_true",
            help="Read JSON Lines; write one result or errors object per input line.",
        )
        parser.add_argument(
            "--ruleset",
            choices=rules.RULESETS,
            default=rules.LATEST_RULESET,
            help="The ruleset to apply (default: the newest), to reproduce earlier results.",
        )
        parser.add_argument(
            "--language",
            choices=[code for code, name in settings.LANGUAGES],
            default="en",
            help="The language of the rationale (default: en). Codes never change with it.",
        )

    def handle(self, *args, jsonl=False, ruleset=rules.LATEST_RULESET, language="en", **options):
        out = self.stdout
        validate = JsonValidator(RULESET_FORMS[ruleset])
        if jsonl:
            all_valid = True
            for line in sys.stdin:
                result, valid = score(line, ruleset, validate, language)
                all_valid &= valid
                out.write(encode(result))
        else:
            result, all_valid = score(sys.stdin.read(), ruleset, validate, language)
            out.write(encode(result))
        if not all_valid:
            raise SystemExit(INVALID)
