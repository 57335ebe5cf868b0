"""The outcomes page's charts: SVG drawn on the server with matplotlib, inlined in the page.

The Content-Security-Policy allows no inline style, and matplotlib writes its SVG
with style attributes and a <style> element: each declaration is turned into the
SVG presentation attribute of the same name, which is not CSS and needs no
exception. Text stays text (svg.fonttype "none") in the page's own font, so
Chinese labels render with the browser's fonts.
"""

import io
import re
import warnings

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .outcomes import AT_RISK_MONTHS, Comparison

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


def _render(figure, *, slug: str, title: str) -> SafeString:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), slug=slug, title=title)


def _draw(draw, *, slug: str, title: str, left: float = 0.1) -> SafeString:
    import matplotlib

    with matplotlib.rc_context(RC), warnings.catch_warnings():
        # The text is text: a glyph missing from matplotlib's own font is the browser's.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure = _figure(left)
        draw(figure.add_subplot())
        return _render(figure, slug=slug, title=title)


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


def adherence_chart(*, groups: list[tuple[str, list[dict]]], title: str) -> SafeString:
    """Horizontal bars: each category's share of its group, in per cent."""

    def draw(axes):
        names, shares, colours = [], [], []
        for number, (group, rows) in enumerate(groups):
            for row in rows:
                names.append(f"{group}: {row['label']}")
                shares.append(row["share"] or 0)
                colours.append(COLOURS[number])
        positions = list(range(len(names)))[::-1]
        axes.barh(positions, shares, color=colours)
        axes.set_yticks(positions, names)
        axes.set_xlim(0, 100)
        axes.set_xlabel(_("Share of the group (%)"))
        for position, share in zip(positions, shares, strict=True):
            axes.text(share + 1, position, f"{share:.0f}%", va="center")

    return _draw(draw, slug="chart-adherence", title=title, left=0.45)


def survival_chart(*, comparison: Comparison, slug: str, title: str) -> SafeString:
    def draw(axes):
        for number, curve in enumerate(comparison.curves):
            if not curve.steps:
                continue
            months = [step[0] for step in curve.steps]
            axes.step(
                months,
                [step[4] for step in curve.steps],
                where="post",
                color=COLOURS[number],
                linestyle=DASHES[number % 2],
                label=f"{curve.label} (n = {curve.subjects})",
            )
            axes.fill_between(
                months,
                [step[5] for step in curve.steps],
                [step[6] for step in curve.steps],
                step="post",
                color=COLOURS[number],
                alpha=0.15,
                linewidth=0,
            )
        axes.set_ylim(0, 1.02)
        axes.set_xlim(left=0)
        axes.set_xticks(list(AT_RISK_MONTHS))
        axes.set_xlabel(_("Months after resection"))
        axes.set_ylabel(_("Recurrence-free survival"))
        if any(curve.steps for curve in comparison.curves):
            axes.legend(frameon=False, loc="lower left")

    return _draw(draw, slug=slug, title=title)
