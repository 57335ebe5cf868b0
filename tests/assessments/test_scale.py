"""At hospital scale: a capped count, a search by MRN an index can answer, the empty
form rendered once."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.queries import CappedPaginator
from tests.factories import record

pytestmark = pytest.mark.django_db


def test_the_count_stops_at_the_cap(clinician_client, clinician, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "MAX_COUNT", 30)
    for _ in range(31):
        record(clinician)
    url = reverse("assessments:list")
    page = clinician_client.get(url).context["page"]
    assert (page.paginator.count, page.paginator.num_pages, page.paginator.capped) == (30, 2, True)
    response = clinician_client.get(url, {"page": 3})  # past the cap: the last page
    assert len(response.context["page"].object_list) == 5
    assert "More than 30 match: the pages hold the newest 30." in response.content.decode()


def test_a_count_past_the_cap_is_made_once_a_minute(clinician_client, clinician, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "MAX_COUNT", 30)
    for _ in range(31):
        record(clinician)
    url = reverse("assessments:list")
    clinician_client.get(url)
    with CaptureQueriesContext(connection) as captured:
        page = clinician_client.get(url, {"page": 2}).context["page"]
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"]]
    assert (page.paginator.count, page.paginator.capped) == (30, True)
    with CaptureQueriesContext(connection) as captured:  # other filters: counted
        clinician_client.get(url, {"status": "draft"})
    assert [q for q in captured.captured_queries if "COUNT(" in q["sql"]]


def test_under_the_cap_the_count_is_exact(clinician_client, clinician, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "MAX_COUNT", 30)
    for _ in range(30):
        record(clinician)
    response = clinician_client.get(reverse("assessments:list"))
    assert not response.context["page"].paginator.capped
    assert "Page 1 of 2" in response.content.decode()
    assert "More than" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("ab-1", ["AB-100", "AB-1"]),
        ("AB-10", ["AB-100"]),
        ("a", ["AB-100", "AB-1"]),
        ("%", []),
        ("A_", []),
        ("AB-1\U0010ffff", []),
        ("b", []),
    ],
)
def test_search_is_a_prefix_of_the_mrn(clinician_client, clinician, query, found):
    for mrn in ("AB-1", "AB-100", "CAB-1"):
        record(clinician, mrn=mrn)
    response = clinician_client.get(reverse("assessments:list"), {"q": query})
    assert [a.patient.mrn for a in response.context["page"].object_list] == found


def test_the_empty_form_is_rendered_once_and_never_with_entries(clinician_client, valid_data):
    cache.clear()
    url = reverse("assessments:create")
    empty = clinician_client.get(url).content.decode()
    assert 'name="tumor_size_cm"' in empty
    # A refused entry shows its values and errors, and is not what the next one gets.
    refused = clinician_client.post(url, {**valid_data, "mrn": "CACHE-1", "tumor_count": "0"})
    assert "CACHE-1" in refused.content.decode()
    again = clinician_client.get(url).content.decode()
    assert "CACHE-1" not in again
    # The same form as the first time; only the CSRF token before it differs.
    assert form_html(again) == form_html(empty)


def form_html(page: str) -> str:
    return page.rsplit('name="csrfmiddlewaretoken"', 1)[1].split(">", 1)[1]
