"""The report as one self-contained HTML page (plots embedded as PNG), readable without
the code: the setup, the tables, the plots and the verdict."""

from __future__ import annotations

import base64
import io
import math
from html import escape
from typing import Any

import pandas as pd

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.45; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
.scroll { overflow-x: auto; }
th { background: #f2f2f2; }
.answer { background: #eef5ff; border-left: 4px solid #3c78d8; padding: 0.6rem 1rem; }
img { max-width: 100%; }
code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def figure_png(fig: Any) -> str:
    """The figure as an <img> with the PNG inline."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{data}">'


def layer_text(layer: dict[str, Any]) -> str:
    arguments = ", ".join(f"{k}={v}" for k, v in layer.items() if k != "class_name")
    return f"{layer['class_name']}({arguments})" if arguments else layer["class_name"]


def _fmt(value: float, digits: int = 4) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def interval_cell(row: pd.Series, digits: int = 4) -> str:
    """``mean [low, high]``, or the mean alone when there is no interval."""
    if row["n"] == 0:
        return "not reached"
    text = _fmt(row["mean"], digits)
    if math.isfinite(row["ci_low"]):
        text += f" [{_fmt(row['ci_low'], digits)}, {_fmt(row['ci_high'], digits)}]"
    return text


def table_html(table: pd.DataFrame) -> str:
    html = table.to_html(index=False, escape=True, border=0, na_rep="–")
    return f'<div class="scroll">{html}</div>'



def section(title: str, *parts: str) -> str:
    return f"<h2>{escape(title)}</h2>\n" + "\n".join(parts)


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def bullet_list(items: list[str], css_class: str = "") -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    rows = "".join(f"<li>{escape(item)}</li>" for item in items)
    return f"<ul{attribute}>{rows}</ul>"


def page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n" + "\n".join(body) + "\n</body></html>\n")
