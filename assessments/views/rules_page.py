"""The rules page: the rules and their evidence, as the engine applies them."""

from django.shortcuts import render
from django.utils.translation import gettext, pgettext

from .. import rules, wording


def rules_page(request):
    """The rules and their evidence, from the constants the engine uses."""

    def table(codes: dict[str, str]):
        return [
            (
                code,
                rules.fires_when(code, gettext),
                rules.sentence(sentence, list(rules.ADVERSE_FINDINGS), gettext),
                gettext(" and ").join(r for r in rules.RULESETS if code in rules.RULESET_CODES[r]),
            )
            for code, sentence in codes.items()
        ]

    return render(
        request,
        "assessments/rules.html",
        {
            "rules": rules,
            # Translated here: {% translate %} doubles each "%" of a variable's text, and the
            # catalogue's entries for these sentences have single ones ("44.4%").
            "sources": [gettext(source) for source in rules.SOURCES],
            "child_pugh_classes": gettext("; ").join(
                gettext("Class %(name)s: %(low)s to %(high)s")
                % {"name": name, "low": low, "high": high}
                for name, low, high in rules.CHILD_PUGH_CLASSES
            )
            + pgettext("end of a sentence", "."),
            "ruleset_adds": wording.newer_rulesets(rules.RULESET_1),
            "codes": [
                (
                    gettext("High-risk factors (any one makes the risk high)"),
                    table(rules.RISK_FACTORS),
                ),
                (
                    gettext("Contraindications (any one rules TACE out)"),
                    table(rules.contraindication_sentences(rules.LATEST_RULESET)),
                ),
                (gettext("Cautions (shown; the recommendation stands)"), table(rules.CAUTIONS)),
            ],
            "window": rules.FIRST_SESSION_WINDOW_DAYS,
            "second_window": rules.SECOND_SESSION_WINDOW_DAYS,
            "findings": [
                (code, gettext(label)) for code, label in rules.PATHOLOGY_FINDINGS.items()
            ],
            "bili": rules.CHILD_PUGH_BILIRUBIN_UMOL_L,
            "alb": rules.CHILD_PUGH_ALBUMIN_G_L,
            "inr": rules.CHILD_PUGH_INR,
            "ascites": rules.ASCITES.values(),
            "encephalopathy": rules.ENCEPHALOPATHY.values(),
        },
    )
