"""The rules' sentences in the reader's language.

The rules engine speaks English, and the English rationale is stored as the
record of what was produced. What a reader sees is made again from the stored
codes and ruleset, in the language of the request; codes never change with it.
"""

from django.utils.translation import gettext

from . import rules


def rationale(result) -> list[str]:
    """The rationale of an assessment or a rules.Result, in the active language."""
    return rules.rationale(
        ruleset=result.ruleset,
        risk_level=result.risk_level,
        risk_factors=result.risk_factors,
        contraindications=result.contraindications,
        cautions=result.cautions,
        pathology_findings=result.pathology_findings,
        prior_adjuvant_tace_sessions=result.prior_adjuvant_tace_sessions,
        translate=gettext,
    )


def coded_sentences(result) -> dict[str, list[tuple[str, str]]]:
    """Each fired code with its sentence, by kind, in the active language."""
    cautions = rules.caution_sentences(
        result.ruleset, recommended=result.recommendation == rules.RECOMMENDED
    )
    contraindications = rules.contraindication_sentences(result.ruleset)
    findings = result.pathology_findings

    def said(text):
        return rules.sentence(text, findings, gettext)

    return {
        "factors": [(c, said(rules.RISK_FACTORS[c])) for c in result.risk_factors],
        "contraindications": [(c, said(contraindications[c])) for c in result.contraindications],
        "cautions": [(c, said(cautions[c])) for c in result.cautions],
    }


def newer_rulesets(ruleset: str) -> list[tuple[str, str]]:
    """The rulesets after this one, each with what it adds, in the active language."""
    return [(newer, gettext(adds)) for newer, adds in rules.newer_rulesets(ruleset).items()]
