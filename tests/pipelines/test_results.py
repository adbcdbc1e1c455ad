"""``make results``: the shipped studies' answers laid out from their saved verdicts and
report contents, never recomputed; the README's answer is the page's summary."""

from __future__ import annotations

import json
import subprocess

import pytest
from kedro.io import DataCatalog, Version
from kedro.runner import SequentialRunner

from bn_compare.datasets import JSONDataset, MarkedSectionDataset, TextDataset
from bn_compare.pipelines.results import create_pipeline
from bn_compare.pipelines.results.nodes import summarize_study, write_results
from tests.conftest import PROJECT_ROOT

MACHINE = "AMD EPYC, 2 cores, AVX2"
HELPS, WHERE, BEST = "Does BatchNormalization help?", "Where should it go?", "Which variant is best?"


def _difference(first, second, mean, low, high, finding):
    return {"first": first, "second": second, "mean_difference": mean, "ci_low": low,
            "ci_high": high, "finding": finding, "margin": 0.005}


def _answer(question, text, differences, means=None, **basis):
    return {"question": question, "text": text, "differences": differences,
            "means": means or {}, **basis}


def _table(records):
    return {"schema": {"fields": [{"name": name} for name in records[0]]}, "data": records}


def _content(study, verdict, *, commit="75ddc4c", grid=None, seeds=(42, 43, 44, 45, 46)):
    """A study's report content as ``build_report_content`` saves it, its answers those of
    ``verdict`` (one run's)."""
    return {
        "seeds": list(seeds),
        "setup": {"study": study, "commit": commit, "machine": MACHINE,
                  "images": {"train": "55,000", "validation": "5,000", "test": "10,000"},
                  "training": {"optimizer": "SGD", "learning_rate": "0.001",
                               "batch_size": "32", "epochs": "10"}},
        "verdict": {"answers": [answer["text"] for answer in verdict["answers"]],
                    "tolerance": ["baseline trained without diverging at learning_rate 0.01; "
                                  "diverged at 1 (3 of 3 runs)."] if grid else []},
        "grid": grid,
        "results": _table([{"variant": "baseline", "seeds": 5, "test_accuracy": "0.8213",
                            "final_val_accuracy": "0.8374", "test_loss": "0.5169"}]),
        "differences": _table([{"comparison": "bn_after_activation − baseline",
                                "95% CI (pp)": "+2.36 to +3.76", "finding": "better"}]),
        "test_sampling": None, "ablation": None,
    }


SEEDS_VERDICT = {"answers": [
    _answer(HELPS, f"{HELPS} Yes. Every variant with BatchNormalization has ...",
            [_difference("bn_after_activation", "baseline", 0.0306, 0.0236, 0.0376, "better"),
             _difference("bn_before_activation", "baseline", 0.0237, 0.0187, 0.0287, "better")]),
    _answer(WHERE, f"{WHERE} Best placement: bn_after_activation, beyond the noise: ...",
            [_difference("bn_after_activation", "bn_before_activation", 0.0069, 0.0046,
                         0.0092, "better")]),
    _answer(BEST, "Best variant: bn_after_activation, beyond the noise: ...",
            [_difference("bn_after_activation", "bn_before_activation", 0.0069, 0.0046,
                         0.0092, "better")],
            means={"bn_after_activation": 0.85188, "bn_before_activation": 0.84498}),
]}


def _summary(study, verdict=SEEDS_VERDICT, **content):
    """``summarize_study`` of a study whose verdict and report content are of one run."""
    return summarize_study(_content(study, verdict, **content), verdict)


def test_a_study_without_a_grid_is_summarized_at_its_one_setting():
    (row,) = _summary("seeds")["rows"]
    assert row == {
        "study": "`seeds`",
        "compared at": "SGD, learning rate 0.001, batch 32; seeds 42–46",
        "Does BN help?": "Yes: with minus without +2.37 to +3.06 pp, 2 of 2 pairs better",
        "Where should BN go?": "bn_after_activation: +0.69 pp (CI +0.46 to +0.92) over "
                               "bn_before_activation",
        "Best variant (test accuracy)": "bn_after_activation (0.8519): +0.69 pp (CI +0.46 to "
                                        "+0.92) over bn_before_activation",
    }


def test_a_lead_within_the_noise_is_not_conclusive_and_a_tie_within_the_margin_is_said():
    basis = "At each variant's best learning rate, on 10 confirmation seeds (1000–1009)"
    verdict = {"answers": [
        _answer(HELPS, f"{basis}: {HELPS} Not conclusively: no comparison shows ...",
                [_difference("bn_after_activation", "baseline", 0.0132, 0.0039, 0.0225,
                             "not conclusive")], basis=basis),
        _answer(WHERE, f"{WHERE} Best placement: bn_after_activation or ...",
                [_difference("bn_after_activation", "bn_before_activation", -0.0016, -0.0037,
                             0.0005, "equivalent")], basis=basis),
        _answer(BEST, "Best variant: not conclusive. bn_after_activation ranks first ...",
                [_difference("bn_after_activation", "bn_before_activation", 0.0001, -0.0041,
                             0.0044, "equivalent"),
                 _difference("bn_after_activation", "baseline", 0.0132, 0.0039, 0.0225,
                             "not conclusive")],
                means={"bn_after_activation": 0.8868}, basis=basis),
    ]}
    (row,) = _summary("lr_sweep", verdict, grid=_grid())["rows"]
    assert row["compared at"] == ("each variant's best learning rate, on 10 confirmation "
                                  "seeds (1000–1009)")
    assert row["Does BN help?"] == "Not conclusively: +1.32 pp (CI +0.39 to +2.25)"
    assert row["Where should BN go?"] == (
        "bn_after_activation or bn_before_activation, equivalent within ±0.5 pp: -0.16 pp "
        "(CI -0.37 to +0.05) over bn_before_activation")
    assert row["Best variant (test accuracy)"] == (
        "not conclusive, bn_after_activation (0.8868) first: +0.01 pp (CI -0.41 to +0.44) "
        "over bn_before_activation")


def test_each_value_of_confirm_per_is_a_row_of_its_own():
    answers = []
    for batch in (8, 512):
        basis = (f"At each variant's best learning rate for batch_size={batch}, on 10 "
                 f"confirmation seeds (1000–1009)")
        answers += [_answer(HELPS, f"{basis}: {HELPS} Yes. ...", [], basis=basis),
                    _answer(BEST, f"batch_size={batch}: Best variant: baseline (the only one).",
                            [], basis=basis)]
    rows = _summary("batch_sweep", {"answers": answers}, grid=_grid())["rows"]
    assert [(row["compared at"], row["Does BN help?"], row["Best variant (test accuracy)"],
             row["Where should BN go?"]) for row in rows] == [
        ("each variant's best learning rate for batch_size=8, on 10 confirmation seeds "
         "(1000–1009)", "Yes", "baseline (the only one).", "–"),
        ("each variant's best learning rate for batch_size=512, on 10 confirmation seeds "
         "(1000–1009)", "Yes", "baseline (the only one).", "–")]


def _grid():
    return {"basis": "The answers above rest on 10 fresh confirmation seeds (1000–1009).",
            "confirmation": {"seeds": "1000–1009", "table": _table([
                {"variant": "baseline", "setting": "learning_rate=0.1",
                 "test accuracy [95% CI]": "0.8709 [0.8669, 0.8748]"}])},
            "best_differences": _table([{"comparison": "bn_after_activation − baseline",
                                         "settings": "learning_rate=0.1 vs learning_rate=0.1"}]),
            "best": _table([{"variant": "baseline", "setting": "learning_rate=0.1",
                             "stable_learning_rate": "0.001, 0.1"}]),
            "stability": ["baseline: learning_rate=0.1: chosen in 95% of resamples"],
            "same_setting": None,
            "interactions": ["Whether bn_after_activation: its gain ... depends on learning "
                             "rate: it does (F(4, 8) = 14.93, ...)."]}


def test_a_studys_section_lays_out_its_answers_and_the_tables_and_sentences_behind_them():
    section = _summary("lr_sweep", grid=_grid())["section"]
    assert section.startswith(
        "## lr_sweep\n\n`kedro run --env=lr_sweep`: code at commit 75ddc4c, on AMD EPYC, 2 "
        "cores, AVX2; 55,000 training, 5,000 validation and 10,000 test images; SGD, "
        "learning rate 0.001, batch size 32, 10 epochs; seeds 42–46.\n\n**Answers**\n\n"
        "- Does BatchNormalization help? Yes. Every variant with BatchNormalization has ...\n")
    for part in ("| variant | setting | test accuracy [95% CI] |\n|---|---|---|\n"
                 "| baseline | learning_rate=0.1 | 0.8709 [0.8669, 0.8748] |",
                 "**How stable each choice is** (the grid's seeds resampled)\n\n"
                 "- baseline: learning_rate=0.1: chosen in 95% of resamples",
                 "- Whether bn_after_activation: its gain",
                 "**Divergence across the grid**\n\n- baseline trained without diverging"):
        assert part in section
    plain = _summary("seeds")["section"]
    assert ("| variant | seeds | test_accuracy | final_val_accuracy |\n|---|---|---|---|\n"
            "| baseline | 5 | 0.8213 | 0.8374 |") in plain


def test_a_tie_beside_a_clear_lead_and_one_seed_without_intervals_are_said_as_such():
    tie = _answer(BEST, "Best variant: a or b, equivalent ...", [
        _difference("a", "plain", 0.02, 0.01, 0.03, "better"),
        _difference("a", "b", 0.001, -0.002, 0.004, "equivalent")], means={"a": 0.88})
    one_seed = _answer(WHERE, f"{WHERE} Best placement: no evidence from one seed ...", [
        {**_difference("a", "b", 0.003, None, None, "no interval (fewer than 3 distinct "
                                                     "values)")}])
    (row,) = _summary("seeds", {"answers": [tie, one_seed]})["rows"]
    assert row["Best variant (test accuracy)"] == (
        "a (0.8800) or b, equivalent within ±0.5 pp: +0.10 pp (CI -0.20 to +0.40) over b; "
        "better than plain")
    assert row["Where should BN go?"] == "no evidence, a first: +0.30 pp (no interval) over b"


def test_a_verdict_and_report_content_of_different_runs_are_refused():
    content = _content("seeds", SEEDS_VERDICT)
    later = {"answers": [{**SEEDS_VERDICT["answers"][0], "text": "Does ...? No. ..."},
                         *SEEDS_VERDICT["answers"][1:]]}
    with pytest.raises(ValueError, match=r"seeds: its latest verdict and report content are "
                                         r"not of one run \(data/seeds/08_reporting/\)"):
        summarize_study(content, later)


def test_the_page_says_where_the_studies_ran_and_when_they_are_not_of_one_commit():
    seeds = _summary("seeds")
    page, summary = write_results(seeds, _summary("ablation"))
    assert "each from its latest run: 2 studies, code at commit 75ddc4c, on AMD EPYC" in page
    assert f"## Summary\n\n{summary}\n## seeds\n" in page
    assert summary.splitlines()[:2] == [
        "| study | compared at | Does BN help? | Where should BN go? | Best variant (test "
        "accuracy) |", "|---|---|---|---|---|"]
    page, _ = write_results(seeds, _summary("ablation", commit="abc1234"))
    assert ("not one commit and machine: seeds at 75ddc4c on AMD EPYC, 2 cores, AVX2; "
            "ablation at abc1234 on AMD EPYC, 2 cores, AVX2") in page


def test_the_pipeline_writes_the_page_and_the_readme_section_from_the_saved_files(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# bn-compare\n\n<!-- results:start -->\nold\n<!-- results:end -->\n")
    catalog = {"results_page": TextDataset(filepath=str(tmp_path / "results.md")),
               "readme_answer": MarkedSectionDataset(filepath=str(readme), marker="results")}
    for study in ("seeds", "lr_sweep"):
        content = _content(study, SEEDS_VERDICT)
        for name, data in (("report_content", content), ("verdict", SEEDS_VERDICT)):
            dataset = JSONDataset(filepath=str(tmp_path / study / f"{name}.json"),
                                  version=Version(None, None))
            dataset.save(data)
            catalog[f"studies.{study}.{name}"] = dataset
    catalog = DataCatalog(catalog)
    SequentialRunner().run(create_pipeline(["seeds", "lr_sweep"]), catalog)
    page = (tmp_path / "results.md").read_text()
    section = catalog.load("readme_answer")
    assert section.count("\n") == 4  # the header, its rule, a row per study
    assert f"## Summary\n\n{section}\n## seeds" in page
    assert page.index("## seeds") < page.index("## lr_sweep")


def test_the_readmes_answer_is_the_generated_summary():
    section = MarkedSectionDataset(filepath=str(PROJECT_ROOT / "README.md"),
                                   marker="results").load()
    page = (PROJECT_ROOT / "docs" / "results.md").read_text()
    assert f"## Summary\n\n{section}\n" in page, (
        "README.md's answer differs from docs/results.md's summary: run make results")


def _committed(study: str, name: str) -> dict:
    """The latest committed version of ``data/<study>/08_reporting/<name>.json`` (``git add
    -f``), whatever later runs have saved in this working tree; Kedro's versions sort by time."""
    listed = subprocess.run(
        ["git", "ls-files", f"data/{study}/08_reporting/{name}.json"], cwd=PROJECT_ROOT,
        capture_output=True, text=True, check=True).stdout.split()
    assert listed, f"{study}: no committed version of {name}.json"
    return json.loads((PROJECT_ROOT / max(listed)).read_text())


def test_the_committed_page_is_what_make_results_writes_from_the_committed_verdicts(
        base_parameters):
    studies = base_parameters["results"]["studies"]
    page, _ = write_results(*(summarize_study(_committed(study, "report_content"),
                                              _committed(study, "verdict"))
                              for study in studies))
    assert page == (PROJECT_ROOT / "docs" / "results.md").read_text(), (
        "docs/results.md is not what make results writes from the committed verdicts: run "
        "make results and commit both the page and data/<study>/08_reporting/ (git add -f)")
