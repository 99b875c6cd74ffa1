"""A hostile submission rendered for a grader runs nothing: formgrader's own exporter and
template (nbgrader's `formgrade`), configured as a course container configures it, turn a
notebook full of script vectors into HTML that a real Chromium then loads."""

from __future__ import annotations

import base64
import os
import shutil

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbgrader.server_extensions.formgrader import handlers
from traitlets.config import Config

pytestmark = pytest.mark.browser

PWN = "window.__pwned.push"
EVIL_SVG = f"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"{PWN}('svg')\"><script>{PWN}('svg-script')</script></svg>"  # noqa: E501
MARKDOWN = f"""# My answer

**Bold** stays bold, and `code` stays code.

<img src="x" onerror="{PWN}('md-img')">
<script>{PWN}('md-script')</script>
<svg onload="{PWN}('md-svg')"></svg>
<details open ontoggle="{PWN}('md-details')"><summary>x</summary></details>
<iframe srcdoc="<script>parent.__pwned.push('md-iframe')</script>"></iframe>
<object data="data:text/html,<script>alert(1)</script>"></object>
<a href="javascript:{PWN}('md-a')">a link</a>
[a markdown link](javascript:{PWN}('md-link'))
<a href="data:text/html,<script>alert(1)</script>">data link</a>
<style>body {{ background: url(javascript:{PWN}('md-css')) }}</style>
<math><mi xlink:href="javascript:{PWN}('md-math')">x</mi></math>
![an attachment](attachment:evil.svg)
"""


def hostile_notebook():
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell(MARKDOWN)
    md.attachments = {"evil.svg": {"image/svg+xml": EVIL_SVG}}
    code = nbformat.v4.new_code_cell("add(1, 2)")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            {
                "text/html": f"<table><tr><td>kept</td></tr></table><img src=x onerror=\"{PWN}('html')\"><script>{PWN}('html-script')</script>",  # noqa: E501
                "text/plain": "kept as text",
            },
        ),
        nbformat.v4.new_output("display_data", {"application/javascript": f"{PWN}('js')"}),
        nbformat.v4.new_output("display_data", {"image/svg+xml": EVIL_SVG}),
        nbformat.v4.new_output(
            "display_data", {"text/latex": f"$x$<img src=x onerror=\"{PWN}('latex')\">"}
        ),
        nbformat.v4.new_output(
            "display_data", {"text/markdown": f"<img src=x onerror=\"{PWN}('output-md')\">"}
        ),
        nbformat.v4.new_output(
            "execute_result",
            {"image/png": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()},
            execution_count=1,
        ),
    ]
    grade = nbformat.v4.new_code_cell("assert add(1, 2) == 3")
    grade.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "points": 1,
        "grade_id": f'"><img src=x onerror="{PWN}(\'grade-id\')">',
        "schema_version": 3,
    }
    raw = nbformat.v4.new_raw_cell(f"<script>{PWN}('raw')</script>")
    raw.metadata["raw_mimetype"] = "text/html"
    nb.cells = [md, code, grade, raw]
    return nb


def render_as_formgrader(nb, safe: bool = True) -> str:
    """What formgrader's submission page holds: its exporter, with the course's settings."""
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    if safe:
        config.HTMLExporter.preprocessors = ["celerylab_lab.safe_render.SanitizeStudentContent"]
        config.HTMLExporter.filters = {"markdown2html": "celerylab_lab.safe_render.markdown2html"}
    resources = {
        "base_url": "/",
        "mathjax_url": "",
        "submission_id": "s1",
        "index": 0,
        "total": 1,
        "notebook_id": "ps1",
        "assignment_id": "ps1",
    }
    html, _ = HTMLExporter(config=config).from_notebook_node(nb, resources=resources)
    return html


@pytest.fixture
def chromium_page():
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is needed (CI=true)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.add_init_script("window.__pwned = []")
        yield page
        browser.close()


def open_as_grader(page, html: str) -> None:
    """Load the page as if formgrader served it (init scripts run; nothing leaves the host)."""
    page.route("**/*", lambda route: route.abort())
    page.route(
        "http://formgrader.test/**", lambda r: r.fulfill(body=html, content_type="text/html")
    )
    page.goto("http://formgrader.test/submission", wait_until="load")


ACTIVE_MARKUP = """() => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['iframe', 'object', 'embed', 'frame'].includes(tag)) found.push(tag);
        if (tag === 'script' && el.textContent.includes('__pwned')) found.push('script');
        for (const attr of el.attributes) {
            const value = attr.value.trim().toLowerCase();
            if (attr.name.startsWith('on')) found.push(`${tag}[${attr.name}]`);
            if (/^(javascript|vbscript|data:text)/.test(value)) found.push(`${tag}[${attr.name}]`);
        }
    }
    return found;
}"""


def test_a_hostile_submission_runs_no_script_in_the_graders_browser(chromium_page):
    page = chromium_page
    open_as_grader(page, render_as_formgrader(hostile_notebook()))
    for link in page.locator("a").all():  # what a grader might click
        if link.is_visible():
            link.click(no_wait_after=True)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") == []
    assert page.evaluate(ACTIVE_MARKUP) == []


def test_the_grader_still_sees_the_students_work(chromium_page):
    page = chromium_page
    open_as_grader(page, render_as_formgrader(hostile_notebook()))
    text = page.inner_text("body")
    assert "My answer" in text
    assert page.locator("strong", has_text="Bold").count() == 1
    assert page.locator("td", has_text="kept").count() == 1  # a safe HTML table output
    assert "assert add(1, 2) == 3" in text  # the test cell's source
    # Escaped, not lost: the grader can read what the student tried.
    assert "onerror" in text


def test_without_the_sanitiser_the_same_notebook_does_run_script(chromium_page):
    """The probe is real: nbconvert's formgrade rendering as shipped runs the student's script."""
    page = chromium_page
    open_as_grader(page, render_as_formgrader(hostile_notebook(), safe=False))
    page.wait_for_timeout(500)
    assert "md-img" in page.evaluate("window.__pwned")
