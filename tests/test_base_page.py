"""The base page's menu, kept once drawn for each language and role, still shows each
user their own menu, name and CSRF token, and follows a change of role at once."""

import re

from django.contrib.auth.models import Group
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
AUDIT_LINK = 'href="/audit/"'
NEW_LINK = 'href="/assessments/new/"'


def page(client: Client) -> str:
    response = client.get("/rules/")
    assert response.status_code == 200
    return response.content.decode()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_user_sees_the_menu_of_their_role_their_name_and_their_own_token(clinician, reviewer):
    clinicians, reviewers = logged_in(clinician), logged_in(reviewer)
    for _ in range(2):  # the second time from the kept fragments
        mine, theirs = page(clinicians), page(reviewers)
        assert NEW_LINK in mine and AUDIT_LINK not in mine
        assert AUDIT_LINK in theirs and NEW_LINK not in theirs
        assert "dr-lee" in mine and "rev-kim" not in mine
        assert "rev-kim" in theirs and "dr-lee" not in theirs
        for client, html in ((clinicians, mine), (reviewers, theirs)):
            secret = client.cookies["csrftoken"].value
            assert {_unmask_cipher_token(token) for token in TOKEN.findall(html)} == {secret}
        assert clinicians.cookies["csrftoken"].value != reviewers.cookies["csrftoken"].value


def test_the_menu_follows_a_change_of_role_at_once(clinician):
    client = logged_in(clinician)
    assert AUDIT_LINK not in page(client)
    clinician.groups.add(Group.objects.get(name="Reviewers"))
    assert AUDIT_LINK in page(client)
    clinician.groups.remove(Group.objects.get(name="Reviewers"))
    assert AUDIT_LINK not in page(client)


def test_the_menu_is_drawn_in_the_language_of_each_request(clinician):
    client = logged_in(clinician)
    english = page(client)
    client.cookies["django_language"] = "zh-hans"
    chinese = page(client)
    assert ">Worklist<" in english and "工作列表" not in english
    assert "工作列表" in chinese and ">Worklist<" not in chinese
    assert 'value="zh-hans" lang="zh-hans" selected' in chinese
    assert 'value="en" lang="en" selected' in english
