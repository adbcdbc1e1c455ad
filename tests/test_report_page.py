"""The report as a user sees it, in Debian's chromium at a laptop's width: the page reads as
the text kept in tests/golden/ (the report of the f-string version it replaced, plus the
findings column of the equivalence test), and it fits the window: nothing scrolls sideways
and nothing reaches past the window's right edge (screenshots: tests/artifacts/)."""

from __future__ import annotations

import functools

import pytest

from tests.conftest import ARTIFACTS, PROJECT_ROOT, chromium_page
from tests.pipelines.test_reporting_nodes import BASELINE, BN, SEEDS, _report, _sweep_report

GOLDEN = PROJECT_ROOT / "tests" / "golden"
LAPTOP = 1280  # px: the narrower end of a laptop's browser window
REPORTS = {
    "report_five_seeds": lambda: _report(SEEDS, baseline=BASELINE, bn=BN),
    "report_one_seed": lambda: _report([42], baseline=[0.82], bn=[0.85]),
    # lr_sweep's: 3 variants x 7 learning rates x 3 seeds, confirmed on 10 seeds
    "report_sweep": _sweep_report,
}
# Each element that reaches past the window's right edge or scrolls sideways itself.
TOO_WIDE = """() => [...document.querySelectorAll("body *")].filter(element =>
    element.getBoundingClientRect().right > window.innerWidth
    || (["auto", "scroll"].includes(getComputedStyle(element).overflowX)
        && element.scrollWidth > element.clientWidth)
).map(element => element.tagName + ": " + element.textContent.trim().slice(0, 60))"""


@pytest.fixture(scope="module")
def browser_page():
    with chromium_page(width=LAPTOP) as page:
        yield page


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    """The page of a report of ``REPORTS`` (written once) and the sources of its images."""
    folder = tmp_path_factory.mktemp("reports")

    @functools.cache
    def write(name):
        html, images = REPORTS[name]()
        (folder / f"{name}.html").write_text(html)
        return (folder / f"{name}.html").as_uri(), images
    return write


@pytest.mark.parametrize("name", ["report_five_seeds", "report_one_seed"])
def test_the_page_reads_as_before(browser_page, report_file, name):
    browser_page.goto(report_file(name)[0])
    assert browser_page.inner_text("body") + "\n" == (GOLDEN / f"{name}.txt").read_text()


@pytest.mark.parametrize("name", REPORTS)
def test_the_page_fits_a_laptops_window(browser_page, report_file, name):
    """The tables wrap, and the figures scale to the column; the screenshot shows it."""
    uri, images = report_file(name)
    browser_page.goto(uri)
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert browser_page.evaluate("document.scrollingElement.scrollWidth") <= LAPTOP
    assert browser_page.evaluate(TOO_WIDE) == []
    column = browser_page.evaluate("document.body.clientWidth")
    shown = browser_page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
    assert len(shown) == len(images)
    assert all(natural > 500 and width <= min(natural, column) for natural, width in shown)
