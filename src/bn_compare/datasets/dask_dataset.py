"""``DaskPublishedDataset``: data the Dask scheduler keeps between tasks."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset


class DaskPublishedDataset(AbstractDataset):
    """A dataset of the pipeline that the catalog keeps in memory (a group's stacked tables),
    kept by the Dask scheduler between tasks, as in Kedro's documented Dask runner."""

    def __init__(self, name: str):
        self._name = name

    def load(self) -> Any:
        from distributed import get_client

        return get_client().get_dataset(self._name)

    def save(self, data: Any) -> None:
        from distributed import get_client

        get_client().publish_dataset(data, name=self._name, override=True)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}
