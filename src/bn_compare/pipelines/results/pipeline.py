"""The shipped studies' answers on one page (``docs/results.md``) and in the README: read
from each study's latest ``report_content`` and ``verdict`` (``data/<study>/08_reporting/``),
never recomputed. ``make results`` runs it (``kedro run --pipelines=results``)."""

from collections.abc import Sequence

from kedro.pipeline import Node, Pipeline

from .nodes import summarize_study, write_results


def create_pipeline(studies: Sequence[str]) -> Pipeline:
    """A node per study (its section and summary rows), then the page and the README's
    answer table, in the order of ``studies``; all in the namespace ``studies``."""
    return Pipeline([
        *(Node(summarize_study, [f"studies.{study}.report_content", f"studies.{study}.verdict"],
               f"studies.{study}.results", name="summarize_study", namespace=f"studies.{study}")
          for study in studies),
        Node(write_results, [f"studies.{study}.results" for study in studies],
             ["results_page", "readme_answer"], name="write_results", namespace="studies"),
    ])
