"""The part of a text file between two marker lines (a generated table inside README.md)."""

from __future__ import annotations

import re
from typing import Any

from kedro.io import DatasetError

from .atomic import TextDataset


class MarkedSectionDataset(TextDataset):
    """The lines between ``<!-- <marker>:start ... -->`` and ``<!-- <marker>:end -->`` of a
    text file: ``load`` returns them, ``save`` replaces them and keeps the rest of the file
    (written atomically, as ``TextDataset``). Unversioned: the file is a document's."""

    def __init__(self, *, filepath: str, marker: str, **kwargs: Any) -> None:
        super().__init__(filepath=filepath, **kwargs)
        self._marker = marker
        self._pattern = re.compile(rf"(<!-- {re.escape(marker)}:start[^\n]*-->[ \t]*\n)(.*?)"
                                   rf"(<!-- {re.escape(marker)}:end -->)", re.DOTALL)

    def load(self) -> str:
        return self._match(super().load()).group(2)

    def save(self, data: str) -> None:
        whole = super().load()
        match = self._match(whole)
        section = data if data.endswith("\n") else data + "\n"  # the end marker on its line
        super().save(whole[:match.start(2)] + section + whole[match.end(2):])

    def _match(self, text: str) -> re.Match[str]:
        if (match := self._pattern.search(text)) is None:
            raise DatasetError(f"{self._filepath} has no section marked '<!-- {self._marker}"
                               f":start -->' ... '<!-- {self._marker}:end -->'")
        return match

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "marker": self._marker}
