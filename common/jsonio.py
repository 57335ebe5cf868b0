"""Strict JSON in and out, the same for the command line, the API and the EHR hooks.

In: numbers become Decimal, never float (the contract's float trap), and a key
given twice is refused. Out: `encode`, one encoder made once.
"""

import json
from decimal import Decimal

from django.utils.translation import gettext

# json.dumps(obj, default=float), with its encoder made once rather than for every line.
# The only Decimal out is the ALBI score, already rounded to 3 places.
encode = json.JSONEncoder(default=float).encode


class DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(key)


def _refuse_duplicates(pairs):
    obj = dict(pairs)
    if len(obj) < len(pairs):
        seen = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


def parse_json(text: str | bytes):
    """Decode one JSON document for the input forms; return (object, errors).

    Numbers become Decimal, never float, from the first byte (the contract's float
    trap); NaN and infinities become non-finite Decimals, which the fields refuse.
    A key given twice is refused under its own name.
    """
    try:
        obj = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=Decimal,
            object_pairs_hook=_refuse_duplicates,
        )
    except DuplicateKey as duplicate:
        return None, {duplicate.key: [gettext("Given more than once: give each field once.")]}
    except json.JSONDecodeError as error:
        # The place, in the app's words: the decoder's own text is Python's, in English.
        message = gettext(
            "Not valid JSON: look at line %(line)d, column %(column)d "
            "(quotes, commas, brackets, or something after the end)."
        ) % {"line": error.lineno, "column": error.colno}
        return None, {"__all__": [message]}
    except RecursionError:  # absurdly deep nesting
        return None, {"__all__": [gettext("Not valid JSON: it is nested too deeply.")]}
    except ValueError:  # UnicodeDecodeError: the bytes are not text
        return None, {"__all__": [gettext("Not valid JSON: send it as UTF-8 text.")]}
    return obj, {}
