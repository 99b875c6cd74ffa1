"""Render student notebooks for graders without running anything the student wrote.

Formgrader and feedback turn a submitted notebook into HTML with nbconvert's HTMLExporter,
which by default passes a markdown cell's raw HTML (`<img src=x onerror=…>`) and rich outputs
(JavaScript, SVG, HTML) straight into the grader's page. nbconvert's `sanitize_html` alone does
not cover markdown cells. nbgrader_config.py wires these in, for formgrader and feedback alike:

- `SanitizeStudentContent`: outputs keep only inert types (text, PNG/JPEG, JSON); HTML and
  markdown outputs are cleaned by an allow-list; raw cells are escaped; nbgrader metadata that
  the page prints unescaped (grade ids) must be plain identifiers.
- `markdown2html`: markdown is rendered with raw HTML escaped and harmful link schemes
  (javascript:, vbscript:, file:) dropped, then the HTML is cleaned by the same allow-list.
"""

from __future__ import annotations

import re

import bleach
from bleach.css_sanitizer import CSSSanitizer
from jinja2 import pass_context
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor

#: What rendered markdown may contain: structure and text, links, images; nothing active.
TAGS = frozenset(
    {
        *("p", "div", "span", "br", "hr", "blockquote", "pre", "code", "kbd", "samp"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "b", "i", "u", "s", "del"),
        *("sub", "sup", "small", "mark", "ul", "ol", "li", "dl", "dt", "dd", "a", "img"),
        *("table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "details"),
        "summary",
    }
)
ATTRIBUTES = {
    "a": ["href", "title", "id", "class"],
    "img": ["src", "alt", "title", "width", "height"],
    "th": ["align", "colspan", "rowspan"],
    "td": ["align", "colspan", "rowspan"],
    "*": ["class", "id"],
}
#: Links and images may point at the web, the page itself, or carry an embedded image.
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);", re.IGNORECASE)
#: Output types that render as inert text or pixels; everything else is removed or cleaned.
SAFE_OUTPUT_KEYS = frozenset(
    {"metadata", "text/plain", "application/json", "image/png", "image/jpeg"}
)
CLEANED_OUTPUT_TYPES = frozenset({"text/html", "text/markdown"})
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.-]{1,200}")


def clean(html: str) -> str:
    """Keep only inert markup; escape the rest (the grader sees it as text)."""

    def attribute_ok(tag: str, name: str, value: str) -> bool:
        if name not in ATTRIBUTES.get(tag, []) + ATTRIBUTES["*"]:
            return False
        if name in ("href", "src") and value.lower().startswith("data:"):
            return tag == "img" and bool(_DATA_IMAGE.match(value))
        return True

    return bleach.clean(
        html,
        tags=TAGS,
        attributes=attribute_ok,
        protocols=PROTOCOLS,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=()),
    )


@pass_context
def markdown2html(context, source: str) -> str:
    """nbconvert's markdown filter, with raw HTML escaped and the result cleaned."""
    cell = context.get("cell", {})
    renderer = IPythonRenderer(
        escape=True,
        allow_harmful_protocols=False,
        attachments=cell.get("attachments", {}),
        exclude_anchor_links=True,
    )
    return clean(MarkdownWithMath(renderer=renderer).render(source))


class SanitizeStudentContent(Preprocessor):
    """Make a student's notebook inert before it is rendered for a grader."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "raw":
            cell.source = bleach.clean(cell.source, tags=set(), strip=False)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                data = output.get("data")
                if not data:
                    continue
                for key in list(data):
                    if key in CLEANED_OUTPUT_TYPES:
                        data[key] = clean(_text(data[key]))
                    elif key not in SAFE_OUTPUT_KEYS:
                        del data[key]  # JavaScript, SVG, LaTeX, widget views, anything new
        nbgrader = cell.get("metadata", {}).get("nbgrader")
        if isinstance(nbgrader, dict):
            grade_id = nbgrader.get("grade_id")
            if grade_id is not None and not _IDENTIFIER.fullmatch(str(grade_id)):
                nbgrader["grade_id"] = f"cell-{index}"
        return cell, resources


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)
