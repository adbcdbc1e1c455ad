"""The report as a user sees it, in Debian's chromium: the page reads as the text kept in
tests/golden/ (the report of the f-string version it replaced, plus the findings column of
the equivalence test)."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, PROJECT_ROOT, chromium_page
from tests.pipelines.test_reporting_nodes import BASELINE, BN, SEEDS, _report

GOLDEN = PROJECT_ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def browser_page():
    with chromium_page(width=1400) as page:
        yield page


@pytest.mark.parametrize(("name", "seeds", "accuracies"), [
    ("report_five_seeds", SEEDS, {"baseline": BASELINE, "bn": BN}),
    ("report_one_seed", [42], {"baseline": [0.82], "bn": [0.85]}),
])
def test_the_page_reads_as_before(browser_page, tmp_path, name, seeds, accuracies):
    html, images = _report(seeds, **accuracies)
    page = tmp_path / f"{name}.html"
    page.write_text(html)
    browser_page.goto(page.as_uri())
    assert browser_page.inner_text("body") + "\n" == (GOLDEN / f"{name}.txt").read_text()
    loaded = browser_page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(loaded) == 2 and all(width > 500 for width in loaded)  # the PNGs decode
    ARTIFACTS.mkdir(exist_ok=True)
    browser_page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
