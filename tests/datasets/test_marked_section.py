"""A generated section of a document (the README's answer table): read and replaced
between its two marker lines, the rest of the file kept byte for byte."""

from __future__ import annotations

import pytest
from kedro.io import DatasetError

from bn_compare.datasets import MarkedSectionDataset

DOCUMENT = ("# Title\n\nHand-written.\n\n<!-- results:start (generated) -->\n| old |\n"
            "<!-- results:end -->\n\nMore hand-written text.\n")


def test_the_section_between_the_markers_is_loaded_and_replaced(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(DOCUMENT)
    section = MarkedSectionDataset(filepath=str(readme), marker="results")
    assert section.load() == "| old |\n"
    section.save("| new |\n| rows |\n")
    assert readme.read_text() == DOCUMENT.replace("| old |\n", "| new |\n| rows |\n")
    assert section.load() == "| new |\n| rows |\n"
    section.save("| last |")  # the end marker stays on a line of its own
    assert section.load() == "| last |\n"


def test_a_file_without_the_markers_is_refused_and_left_alone(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    with pytest.raises(DatasetError, match=r"README.md has no section marked "
                                           r"'<!-- results:start -->' ... '<!-- results:end -->'"):
        MarkedSectionDataset(filepath=str(readme), marker="results").save("| new |\n")
    assert readme.read_text() == "# Title\n"
