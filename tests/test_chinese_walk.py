"""A walk through every page a clinician sees, in Chinese: no English word outside codes,
units and names, and no half-width punctuation in a Chinese sentence."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from tests.test_i18n import ZH, pages  # noqa: F401  (pages: the fixture)


@pytest.fixture(autouse=True)
def _english_after():
    """A request in Chinese leaves Chinese active in the thread (LocaleMiddleware): the
    tests after these, which check English messages without a request, need English."""
    yield
    translation.activate("en")


# Codes, units, abbreviations and names that stay as they are in Chinese text.
KEPT = {
    # abbreviations, scores and classifications
    *("TACE", "MRN", "INR", "ALBI", "Child", "Pugh", "MVI", "AFP", "CT", "MRI", "MDT", "RFS", "OS"),
    *("EASL", "AASLD", "CNLC", "UTC", "CSV", "OS", "DFS", "Vp", "West", "Haven", "log"),
    # units, grades and classes
    *(
        "cm",
        "mg",
        "dL",
        "mL",
        "ng",
        "g",
        "L",
        "µmol",
        "mol",
        "A",
        "B",
        "C",
        "M",
        "R",
        "I",
        "II",
        "III",
        "P",
    ),
    "Z",  # "A 至 Z", sorting by MRN
    "English",  # the language menu names each language in itself
    "Consultants",  # the role's name, as the admin shows it
    *("OLD", "MRN"),  # the test patients' MRNs
}
# Pages a clinician does not see: the audit log and the outcomes are reviewers', the
# 403 page a user's with no role.
NOT_A_CLINICIANS = {"audit log", "outcomes", "403"}
CJK = "\u3400-\u9fff"
WORD = re.compile(r"[A-Za-z]+")
# A half-width colon, semicolon, comma or parenthesis beside a Chinese character, a
# point after one ("高."), or a closing parenthesis of a Chinese phrase.
HALF_WIDTH = re.compile(rf"[{CJK}]\s?[:;,(]|[:;,(]\s?[{CJK}]|[{CJK}]\)|[{CJK}]\.(?!\d)")
# A reference: its authors, journal or title stay as published; what follows is read.
CITATION = re.compile(
    rf"^[A-Z][^{CJK}]*? (?:19|20)\d\d[;:\d-]*"  # a reference that opens the text
    rf"|\b[A-Z][a-z]+ [A-Z]{{1,2}} et al\., [^{CJK}]*?(?:19|20)\d\d[;:\d-]*"  # Raoul JL et al., ...
    r"|\b[A-Z][a-z]+ (?:19|20)\d\d\b"  # Ren 2004
    rf"|\b[A-Z][a-z]+ [A-Z]{{1,2}} 等，[^{CJK}]*?(?:19|20)\d\d"  # Feng LH 等，Front Oncol 2023
    rf"|（[^{CJK}（）]*?(?:PMC\d+|doi [^（）\s]+)）"  # （The Oncologist，PMC...）, （... doi ...）
)
INLINE = {"a", "strong", "em", "b", "i", "span", "q", "time", "abbr", "small", "del", "sub"}


class Text(HTMLParser):
    """The text a reader sees or hears, a block at a time (inline elements joined), and
    the labelling attributes."""

    SKIPPED = {"script", "style"}
    SPOKEN = {"aria-label", "title", "placeholder", "alt"}

    def __init__(self):
        super().__init__()
        self.parts, self.current, self.skipping = [], [], 0

    def flush(self):
        if text := " ".join("".join(self.current).split()):
            self.parts.append(text)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        if tag not in INLINE:
            self.flush()
        self.parts.extend(value for name, value in attrs if name in self.SPOKEN and value)

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping -= 1
        if tag not in INLINE:
            self.flush()

    def handle_data(self, data):
        if not self.skipping:
            self.current.append(data)


def texts(html: str) -> list[str]:
    parser = Text()
    parser.feed(html)
    parser.flush()
    return parser.parts


def english_words(text: str, kept: set[str]) -> list[str]:
    if re.fullmatch(r"[a-z0-9_]+", text):  # a rule's code, as /rules/ lists them
        return []
    text = CITATION.sub("", text)
    return [word for word in WORD.findall(text) if word not in kept]


def test_the_walk_finds_english_and_half_width_punctuation():
    assert texts("<p>复发风险：<strong>高</strong>. 规则集 3。</p>") == ["复发风险：高. 规则集 3。"]
    assert HALF_WIDTH.search("复发风险：高. 规则集 3。")
    assert HALF_WIDTH.search("高危因素: 无")
    assert HALF_WIDTH.search("(风险高，规则集 3)")
    assert not HALF_WIDTH.search("复发风险：高。规则集 3。ALBI -2.60（2 级）")
    assert english_words("由 dr-lee 签署 Signed by", {"dr", "lee"}) == ["Signed", "by"]
    assert (
        english_words("Ren ZG et al., World J Gastroenterol 2004;10:2791。回顾性研究", set()) == []
    )
    assert english_words("Ren ZG et al., World J 2004;10:2791. Retrospective, 549", set()) != []
    assert (
        english_words(
            "研究（Ren 2004）；依据 Raoul JL et al., Cancer Rev 2011;37:212（规则集 3）", set()
        )
        == []
    )


@pytest.mark.django_db
def test_every_clinician_page_reads_in_chinese(client, pages):  # noqa: F811
    names = {word for user in get_user_model().objects.all() for word in WORD.findall(str(user))}
    kept = KEPT | names
    english, punctuation = {}, {}
    for name, (user, method, url, data) in pages.items():
        if name in NOT_A_CLINICIANS:
            continue
        client.logout()
        if user is not None:
            client.force_login(user)
        html = getattr(client, method)(url, data or {}, **ZH).content.decode()
        for text in texts(html):
            if text.startswith("{#"):  # a template comment left on the page: fixed apart
                continue
            if words := english_words(text, kept):
                english.setdefault(name, []).append((text, words))
            if HALF_WIDTH.search(text):
                punctuation.setdefault(name, []).append(text)
    assert english == {}, english
    assert punctuation == {}, punctuation
