"""Why BatchNormalization helps: every run's diagnostics (collected by ``evaluation`` as
``diagnostics_table``) over seeds, at each variant's best setting for a grid (for each
value of the ``confirm.per`` keys apart): the summary, the section "Why" of the report
(which variants normalize: ``parameter_accounting``), and its two plots. The statistics'
settings, the grid's keys and the ``per`` keys are bound to the nodes."""

from kedro.pipeline import Node, Pipeline

from bn_compare.pipelines.variant_template import bind
from bn_compare.run_matrix import RunMatrix

from .nodes import explain_diagnostics, summarise_diagnostics
from .plots import plot_activation_percentiles, plot_landscape_smoothness


def create_pipeline(matrix: RunMatrix) -> Pipeline:
    keys = matrix.grid_keys if matrix.is_sweep else ()
    best = ["best_settings"] if keys else []  # from reporting
    fixed = {"statistics": matrix.parameters.statistics, "grid_keys": keys}
    return Pipeline([
        Node(bind(summarise_diagnostics, **fixed), ["diagnostics_table", *best],
             "diagnostics_summary", name="summarise_diagnostics"),
        Node(bind(explain_diagnostics, **fixed, per=matrix.confirm_per if keys else ()),
             ["diagnostics_table", "parameter_accounting", *best], "why",
             name="explain_diagnostics"),
        Node(bind(plot_activation_percentiles, grid_keys=keys), "diagnostics_summary",
             "activation_percentiles@figure", name="plot_activation_percentiles"),
        Node(bind(plot_landscape_smoothness, grid_keys=keys), "diagnostics_summary",
             "landscape_smoothness@figure", name="plot_landscape_smoothness"),
    ])
