"""The outcomes page's charts: SVG drawn on the server with matplotlib, inlined in the page.

The Content-Security-Policy allows no inline style, and matplotlib writes its SVG
with style attributes and a <style> element: each declaration is turned into the
SVG presentation attribute of the same name, which is not CSS and needs no
exception. Text stays text (svg.fonttype "none") in the page's own font, so
Chinese labels render with the browser's fonts.
"""

import io
import re
import textwrap
import warnings

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .report import AT_RISK_MONTHS, Comparison, Incidence

# Told apart by line style and marker as well as colour (Okabe-Ito colours).
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
DASHES = ["solid", (0, (5, 2))]
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "outcomes",  # the same ids for the same chart
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# Presentation attributes matplotlib sets through style="..."; others are dropped.
PRESENTATION = {
    "fill",
    "fill-opacity",
    "opacity",
    "stroke",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-opacity",
    "stroke-width",
    "font-size",
    "font-style",
    "font-weight",
    "text-anchor",
    "dominant-baseline",
}
STYLE = re.compile(r' style="([^"]*)"')


def _attributes(match: re.Match) -> str:
    attributes = []
    for declaration in match.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name in PRESENTATION and value:
            attributes.append(f' {name}="{escape(value)}"')
    return "".join(attributes)


def inline_svg(svg: str, *, slug: str, title: str) -> SafeString:
    """matplotlib's SVG document as an element for the page: no prolog, no metadata,
    no style, its ids prefixed with slug, its accessible name the title."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>\s*", "", svg, flags=re.S)
    svg = STYLE.sub(_attributes, svg)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{slug}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{slug}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{slug}-\1"', svg)
    svg = re.sub(
        r'<svg ([^>]*?)width="[^"]*" height="[^"]*" ',
        rf'<svg \1role="img" aria-labelledby="{slug}-title" class="chart" '
        'stroke-linejoin="round" stroke-linecap="butt" ',
        svg,
        count=1,
    )
    svg = svg.replace(">", f'>\n <title id="{slug}-title">{escape(title)}</title>', 1)
    return mark_safe(svg)  # matplotlib's output; the text in it is escaped


def _figure(left: float):
    # matplotlib is imported when a chart is drawn, not with every command and test.
    from matplotlib.figure import Figure

    # Fixed margins: a layout engine would draw each chart twice.
    figure = Figure(figsize=(6.4, 3.6))
    figure.subplots_adjust(left=left, right=0.97, top=0.95, bottom=0.2)
    return figure


def _render(figure, *, slug: str, title: str, tight: bool = False) -> SafeString:
    buffer = io.StringIO()
    extra = {"bbox_inches": "tight", "pad_inches": 0.1} if tight else {}
    figure.savefig(buffer, format="svg", metadata={"Date": None}, **extra)
    return inline_svg(buffer.getvalue(), slug=slug, title=title)


def _draw(draw, *, slug: str, title: str, left: float = 0.1, tight: bool = False) -> SafeString:
    import matplotlib

    with matplotlib.rc_context(RC), warnings.catch_warnings():
        # The text is text: a glyph missing from matplotlib's own font is the browser's.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure = _figure(left)
        draw(figure.add_subplot())
        return _render(figure, slug=slug, title=title, tight=tight)


def monthly_chart(*, months: list[dict], labels: dict[str, str], title: str) -> SafeString:
    def draw(axes):
        # One filled outline per recommendation, stacked: a bar per month without
        # an artist per bar.
        edges = [number - 0.4 for number in range(len(months) + 1)]
        bottom = [0] * len(months)
        for number, (code, label) in enumerate(labels.items() if months else ()):
            top = [b + month[code] for b, month in zip(bottom, months, strict=True)]
            axes.stairs(
                top, edges, baseline=bottom, fill=True, color=COLOURS[number], label=str(label)
            )
            bottom = top
        positions = list(range(len(months)))
        step = max(1, len(months) // 12)
        axes.set_xticks(
            positions[::step], [f"{m['month']:%Y-%m}" for m in months[::step]], rotation=45
        )
        axes.set_ylabel(_("Assessments"))
        axes.set_xlabel(_("Month of resection"))
        axes.legend(frameon=False)

    return _draw(draw, slug="chart-monthly", title=title)


def _wrapped(label: str, width: int = 30) -> str:
    # Chinese has no spaces: textwrap cuts it at the width, as it should be.
    return "\n".join(textwrap.wrap(label, width)) or label


def adherence_chart(*, groups: list[tuple[str, list[dict]]], title: str) -> SafeString:
    """Horizontal bars: each category's share of its group, in per cent; the labels
    wrapped, and the figure's left margin fitted to them, so none is clipped."""

    def draw(axes):
        names, shares, colours = [], [], []
        for number, (group, rows) in enumerate(groups):
            for row in rows:
                names.append(_wrapped(f"{group}: {row['label']}"))
                shares.append(row["share"] or 0)
                colours.append(COLOURS[number])
        positions = list(range(len(names)))[::-1]
        axes.barh(positions, shares, color=colours)
        axes.set_yticks(positions, names, fontsize=8)
        axes.set_xlim(0, 110)
        axes.set_xticks([0, 20, 40, 60, 80, 100])
        axes.set_xlabel(_("Share of the group (%)"))
        for position, share in zip(positions, shares, strict=True):
            axes.text(share + 1, position, f"{share:.0f}%", va="center", fontsize=8)

    return _draw(draw, slug="chart-adherence", title=title, left=0.45, tight=True)


def _shown(steps, value_at: int):
    """The steps up to the first one without an estimate (too few at risk)."""
    shown = []
    for step in steps:
        if step[value_at] is None:
            break
        shown.append(step)
    return shown


def survival_chart(
    *, comparison: Comparison, slug: str, title: str, xlabel: str | None = None
) -> SafeString:
    """Each curve drawn while at least 10 are at risk, with its 95% band."""

    def draw(axes):
        drawn = False
        for number, curve in enumerate(comparison.curves):
            steps = _shown(curve.steps, 4)
            if not steps:
                continue
            drawn = True
            months = [step[0] for step in steps]
            axes.step(
                months,
                [step[4] for step in steps],
                where="post",
                color=COLOURS[number],
                linestyle=DASHES[number % 2],
                label=f"{curve.label} (n = {curve.subjects})",
            )
            axes.fill_between(
                months,
                [step[5] for step in steps],
                [step[6] for step in steps],
                step="post",
                color=COLOURS[number],
                alpha=0.15,
                linewidth=0,
            )
        axes.set_ylim(0, 1.02)
        axes.set_xlim(left=0)
        axes.set_xticks(list(AT_RISK_MONTHS))
        axes.set_xlabel(xlabel or _("Months after resection"))
        axes.set_ylabel(_("Recurrence-free survival"))
        if drawn:
            axes.legend(frameon=False, loc="lower left")

    return _draw(draw, slug=slug, title=title)


def incidence_chart(*, incidence: list[Incidence], slug: str, title: str) -> SafeString:
    """The cumulative incidence of recurrence, drawn while at least 10 are at risk."""

    def draw(axes):
        drawn = False
        for number, item in enumerate(incidence):
            steps = _shown(item.steps, 2)
            if not steps:
                continue
            drawn = True
            axes.step(
                [step[0] for step in steps],
                [step[2] for step in steps],
                where="post",
                color=COLOURS[number],
                linestyle=DASHES[number % 2],
                label=f"{item.label} (n = {item.subjects})",
            )
        axes.set_ylim(0, 1.02)
        axes.set_xlim(left=0)
        axes.set_xticks(list(AT_RISK_MONTHS))
        axes.set_xlabel(_("Months after resection"))
        axes.set_ylabel(_("Cumulative incidence of recurrence"))
        if drawn:
            axes.legend(frameon=False, loc="upper left")

    return _draw(draw, slug=slug, title=title)
