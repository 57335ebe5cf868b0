"""CSV responses a spreadsheet opens safely: every export goes through csv_response."""

import csv

from django.http import HttpResponse

# A spreadsheet may read a cell starting with one of these as a formula, or split
# the cell there (";" and "," are separators in some locales), spaces before it aside.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", ";", ",")


def csv_safe(value) -> str:
    """Keep a spreadsheet from running a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header, rows) -> HttpResponse:
    """An attachment of the header and the rows (any iterable: a query's iterator is
    written as it comes), each cell made safe and quoted."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Every cell quoted: a spreadsheet that splits on another separator than ","
    # still sees one cell, and its start is what csv_safe made safe.
    writer = csv.writer(response, quoting=csv.QUOTE_ALL)
    writer.writerow([str(name) for name in header])
    for row in rows:
        writer.writerow([csv_safe(value) for value in row])
    return response
