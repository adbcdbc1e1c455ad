"""The report: one self-contained HTML page that reads without the code. It computes
nothing: the Jinja2 template ``templates/report.html`` (autoescaped) lays out what
``report_content`` says (``content.build_report_content``) and the figures it names, the
plot nodes' PNG files, embedded."""

from __future__ import annotations

import base64
import io
import json
from functools import cache
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup

BREAK = "\x1f"  # where a line may end: pandas escapes it as it is, then it becomes <wbr>


def _png(png: bytes) -> str:
    """A data: URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _html_table(table: dict[str, Any]) -> Markup:
    """A table of the content (JSON Table Schema) as HTML; pandas escapes every cell. A long
    name may end a line after each underscore (``<wbr>``), but in the first column, the
    row's name: ``stable_learning_rate`` wraps instead of widening the table past the page."""
    frame = pd.read_json(io.StringIO(json.dumps(table)), orient="table", precise_float=True)
    text = [column for column in frame.columns[1:]
            if not pd.api.types.is_numeric_dtype(frame[column])]
    frame[text] = frame[text].map(_breakable)
    html = frame.rename(columns=_breakable).to_html(index=False, escape=True, border=0,
                                                    na_rep="–")
    return Markup('<div class="scroll">' + html.replace(BREAK, "<wbr>") + "</div>")


def _breakable(value: Any) -> Any:
    """Text with a ``BREAK`` after each underscore; anything else as it is."""
    return value.replace("_", "_" + BREAK) if isinstance(value, str) else value


@cache
def _template() -> Template:
    environment = Environment(loader=PackageLoader(__package__, "templates"),
                              autoescape=select_autoescape(["html"]), undefined=StrictUndefined)
    environment.filters["png"] = _png
    environment.filters["table"] = _html_table
    return environment.get_template("report.html")


def write_report(content: dict[str, Any], **figures: bytes) -> str:
    """The page of ``content`` (``report_content``), with ``figures`` (PNG bytes) by name."""
    return _template().render(content=content, figures=figures) + "\n"
