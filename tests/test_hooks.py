"""The project's hooks, called as Kedro calls them: the input check before any node, the
progress of the trainings, the answers at the end."""

from __future__ import annotations

import io
import itertools
import json
import logging
from types import SimpleNamespace

import numpy as np
import pytest
from kedro.io import DataCatalog, DatasetError, MemoryDataset, Version
from kedro.pipeline import Node, Pipeline
from rich.console import Console

from bn_compare.datasets import FashionMNISTDataset, JSONDataset, NumpyDataset, TextDataset
from bn_compare.hooks import AnswerHook, InputCheckHook, InvalidRunRequestError, ProgressHook
from bn_compare.parameters import InvalidParametersError
from bn_compare.pipelines.compare import create_pipeline
from tests.conftest import context_for


def _with_training(base_parameters, **training):
    return {**base_parameters, "training": {**base_parameters["training"], **training}}


def _checked(raw, run_params=None, pipeline=Pipeline([]), **datasets):
    hook = InputCheckHook()
    hook.after_context_created(context_for(raw))
    hook.before_pipeline_run(run_params or {}, pipeline, DataCatalog(datasets))


def test_the_input_check_reports_every_keras_problem_of_a_run_that_trains(base_parameters):
    raw = _with_training(base_parameters, optimizer="SGDD", loss="nope")
    with pytest.raises(InvalidParametersError) as raised:
        _checked(raw, pipeline=create_pipeline(context_for(raw).run_matrix))
    assert raised.value.problems == ["training.optimizer: 'SGDD' is not a Keras optimizer name",
                                     "training.loss: 'nope' is not a Keras loss name"]
    _checked(raw)  # a run that trains nothing (make results) neither checks nor needs Keras


def test_the_input_check_reads_the_raw_files_when_the_run_needs_them(base_parameters,
                                                                    tmp_path):
    raw = FashionMNISTDataset(path=str(tmp_path), search_paths=[], download=False)
    reads_raw = Pipeline([Node(len, "fashion_mnist_raw", "n", name="count")])
    with pytest.raises(DatasetError, match="not found in"):
        _checked(base_parameters, pipeline=reads_raw, fashion_mnist_raw=raw)
    _checked(base_parameters, fashion_mnist_raw=raw)  # a run that does not read them


def test_requested_versions_must_exist(base_parameters, tmp_path):
    model = NumpyDataset(filepath=str(tmp_path / "x.npy"), version=Version(None, None))
    model.save(np.zeros(2))
    (saved,) = model.list_versions(full_path=False)
    _checked(base_parameters, {"load_versions": {"x": saved}}, x=model)
    with pytest.raises(InvalidRunRequestError) as raised:
        _checked(base_parameters, {"load_versions": {"x": "2020-01-01T00.00.00.000Z",
                                                     "nope": saved}}, x=model)
    assert raised.value.problems == [
        f"--load-versions x:2020-01-01T00.00.00.000Z: no such version of x; its latest "
        f"versions: {saved}",
        f"--load-versions nope:{saved}: 'nope' is not a versioned dataset of this project "
        f"(see conf/base/catalog.yml)"]


def test_saved_inputs_no_node_makes_must_exist(base_parameters, tmp_path):
    verdict = JSONDataset(filepath=str(tmp_path / "verdict.json"), version=Version(None, None))
    reads = Pipeline([Node(len, ["verdict", "params:x"], "n", name="count")])
    with pytest.raises(InvalidRunRequestError) as raised:
        _checked(base_parameters, pipeline=reads, verdict=verdict)
    assert raised.value.problems == [
        "verdict: nothing saved yet, and no node of this run makes it"]
    verdict.save({"answers": []})
    _checked(base_parameters, pipeline=reads, verdict=verdict)


def _terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120)


def _progress(raw, catalog=None, only_missing_outputs=False, console=None):
    """The hook before a run, on a clock that moves 10 s each time it is read; its output
    not a terminal unless ``console`` says so."""
    context = context_for(raw)
    pipeline = create_pipeline(context.run_matrix)
    hook = ProgressHook(clock=itertools.count(step=10).__next__,
                        console=console or Console(file=io.StringIO()))
    hook.after_context_created(context)
    hook.before_pipeline_run({"only_missing_outputs": only_missing_outputs}, pipeline,
                             catalog or DataCatalog())
    return hook, [n for n in pipeline.nodes if n.name.endswith(".train_model")]


def test_progress_is_logged_as_each_training_ends(base_parameters, caplog):
    hook, trainings = _progress(_with_training(base_parameters, seeds=[1, 2]))
    with caplog.at_level(logging.INFO, logger="bn_compare.hooks"):
        for node in trainings:
            hook.after_node_run(node)
        hook.after_node_run(SimpleNamespace(name="split_dataset", namespace=None))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == len(trainings) == 6
    # 10 s for the first of six equal trainings: 50 s left
    assert lines[0] == "1/6 trainings done - elapsed 0:10 - about 1 min left"
    assert lines[-1] == "6/6 trainings done - elapsed 1:00 - all done"


def test_progress_counts_only_the_trainings_a_resumed_run_has_left(base_parameters, caplog):
    done = {f"baseline.seed_42.{name}": MemoryDataset(1)
            for name in ("model", "history", "diagnostics")}
    hook, trainings = _progress(base_parameters, DataCatalog(done), only_missing_outputs=True)
    with caplog.at_level(logging.INFO, logger="bn_compare.hooks"):
        hook.after_node_run(trainings[-1])
    # the two BN variants; the baseline's outputs exist
    assert caplog.records[-1].getMessage().startswith("1/2 trainings done")


def test_a_terminal_shows_a_live_bar_instead_of_the_log_lines(base_parameters, caplog):
    hook, trainings = _progress(base_parameters, console=(terminal := _terminal()))
    with caplog.at_level(logging.INFO, logger="bn_compare.hooks"):
        for node in trainings:
            hook.after_node_run(node)
        hook.after_pipeline_run()
    assert not caplog.records
    last = terminal.file.getvalue().split("\r")[-1]  # the bar as it was left
    assert "3/3 trainings" in last and "━" in last and "elapsed 0:30 - all done" in last


def _verdict_catalog(folder, *, save_version=None):
    version = Version(None, save_version)
    return DataCatalog({
        "verdict": JSONDataset(filepath=str(folder / "verdict.json"), version=version),
        "report": TextDataset(filepath=str(folder / "report.html"), version=version)})


def test_a_run_ends_with_its_answers_and_the_path_of_its_report(tmp_path):
    verdict = {"answers": [{"text": "Does BatchNormalization help? Yes."},
                           {"text": "Where should it go? Either place."}]}
    catalog = _verdict_catalog(tmp_path, save_version="2026-12-07T10.00.00.000Z")
    catalog.save("verdict", verdict)
    catalog.save("report", "<html></html>")
    terminal = _terminal()
    pipeline = Pipeline([Node(json.dumps, "x", "verdict"), Node(json.dumps, "verdict", "report")])
    AnswerHook(terminal).after_pipeline_run(pipeline, catalog)
    assert terminal.file.getvalue().splitlines() == [
        "", "Answers:", "  Does BatchNormalization help? Yes.",
        "  Where should it go? Either place.",
        f"Report: {tmp_path}/report.html/2026-12-07T10.00.00.000Z/report.html"]


def test_a_run_without_a_verdict_prints_no_answers(tmp_path):
    terminal = _terminal()
    AnswerHook(terminal).after_pipeline_run(Pipeline([Node(json.dumps, "x", "y")]),
                                            _verdict_catalog(tmp_path))
    assert terminal.file.getvalue() == ""
