import contextlib
import itertools
import multiprocessing
import os
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


# Input longer than CHUNK lines, from a file or a pipe, is scored CHUNK lines at a time by
# one process per core: each line is scored on its own, so the output is the same, and
# it is written in the order of the input.
CHUNK = 2000


def score_chunk(lines: list[str], ruleset: str, validate: JsonValidator, language: str):
    """Score lines of JSON Lines; return (the output lines, whether every line was valid)."""
    outputs, all_valid = [], True
    for line in lines:
        result, valid = score(line, ruleset, validate, language)
        all_valid &= valid
        outputs.append(encode(result) + "\n")
    return "".join(outputs), all_valid


_worker = {}  # a pool worker's arguments to score_chunk, set once by start_worker


def start_worker(ruleset: str, language: str) -> None:
    validate = JsonValidator(RULESET_FORMS[ruleset])  # one form per worker, reused
    _worker.update(ruleset=ruleset, validate=validate, language=language)


def score_in_worker(lines: list[str]):
    return score_chunk(lines, **_worker)


def chunks(lines):
    while chunk := list(itertools.islice(lines, CHUNK)):
        yield chunk


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
            all_valid = self.score_lines(sys.stdin, ruleset, validate, language)
        else:
            result, all_valid = score(sys.stdin.read(), ruleset, validate, language)
            out.write(encode(result))
        if not all_valid:
            raise SystemExit(INVALID)

    def score_lines(self, lines, ruleset: str, validate: JsonValidator, language: str) -> bool:
        """Write one output line per input line, in order; return whether all were valid.

        Lines typed at a terminal are scored as they come; a longer input, by a pool.
        """
        all_valid = True
        with contextlib.ExitStack() as stack:
            if lines.isatty():
                results = (score_chunk([line], ruleset, validate, language) for line in lines)
            else:
                batches = chunks(lines)
                batches = itertools.chain([first := next(batches, [])], batches)
                cores = len(os.sched_getaffinity(0))
                if len(first) < CHUNK or cores < 2:
                    results = (score_chunk(b, ruleset, validate, language) for b in batches)
                else:
                    pool = multiprocessing.get_context("fork").Pool(
                        cores, start_worker, (ruleset, language)
                    )
                    results = stack.enter_context(pool).imap(score_in_worker, batches)
            for text, valid in results:
                all_valid &= valid
                self.stdout.write(text, ending="")
        return all_valid
