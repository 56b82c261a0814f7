"""The static leaderboard site ``reports/site/``: one ``index.html`` from ``reports/leaderboard.json``.

Works from ``file://`` without a server or network: the tables are in the HTML (readable without
script), ``assets/leaderboard.js`` (written for the suite, no library) only sorts and filters, the
critical-difference diagrams are copied beside the page. Links point to files relative to the page:
each reproduced cell to its run summary, the papers' rendered tables and figures under ``reports/``.
"""

from __future__ import annotations

import shutil
from html import escape
from importlib import resources
from pathlib import Path

from .build import METRIC_LABELS, _dropped, _fmt, _p, _source

ASSETS = ("leaderboard.js", "leaderboard.css")
COLUMNS = [  # (key, header, numeric)
    ("rank", "Rank", True), ("group", "Group", True), ("display", "Method", False), ("source", "Source", False),
    ("mean", "Mean", True), ("std", "Std", True), ("n_ok", "n ok", True), ("budget", "Budget", False),
    ("runtime_s", "Runtime (s)", True), ("p_leader", "p vs leader (Holm)", True),
]


def _attr(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _row(e: dict, link_prefix: str) -> str:
    pub = e["source"] == "published"
    classes = [f"src-{e['source']}"] + ([f"group-{e['group']}"] if e.get("group") else [])
    cells = []
    for key, _, numeric in COLUMNS:
        value = e.get(key)
        if key == "rank":
            text = "–" if value is None else str(value)
        elif key == "group":
            text = "" if value is None else str(value)
        elif key == "display":
            text = escape(e["display"])
            if e["display"] != e["method"]:
                text += f' <span class="tag">{escape(e["method"])}</span>'
            if e.get("code_url"):
                text += f' <a href="{_attr(e["code_url"])}" rel="external">code</a>'
            if e.get("paper_url"):
                text += f' <a href="{_attr(e["paper_url"])}" rel="external">paper</a>'
        elif key == "source":
            text = escape(_source(e))
            value = e["source"]
        elif key == "mean":
            text = _fmt(value)
            if e.get("summary"):
                text = f'<a href="{_attr(link_prefix + e["summary"])}" title="run summary">{text}</a>'
            elif e.get("submission"):
                text = f'<a href="{_attr(link_prefix + e["submission"])}" title="submitted values">{text}</a>'

        elif key == "std":
            text = "" if pub else _fmt(value)
        elif key == "n_ok":
            text = "" if pub else f"{e['n_ok']}/{e['n']}"
        elif key == "runtime_s":
            text = "" if value is None else f"{value:.2f}"
        elif key == "p_leader":
            text = _p(value)
        else:
            text = escape("" if value is None else str(value))
        if e.get("note") and key == "source":
            text += f' <span class="tag" title="{_attr(e["note"])}">note</span>'
        data = "" if value is None else f' data-value="{_attr(value)}"'
        if key == "budget" and e.get("budget_details"):
            data += f' title="{_attr(e["budget_details"])}"'
        klass = ' class="num"' if numeric else ""
        cells.append(f"<td{klass}{data}>{text}</td>")
    return (f'<tr data-entry="{_attr(e["id"])}" data-source="{_attr(e["source"])}" '
            f'data-budget="{_attr(e.get("budget"))}" class="{" ".join(classes)}">' + "".join(cells) + "</tr>")


def _board(board: dict, test: dict, link_prefix: str) -> str:
    metric = METRIC_LABELS[board["metric"]]
    hid = f"lb-{board['dataset']}-{board['metric']}"
    head = "".join(f'<th scope="col"><button type="button">{escape(h)}</button></th>' for _, h, _ in COLUMNS)
    body = "\n".join(_row(e, link_prefix) for e in board["entries"])
    cite = board["citation"]
    return f"""
<section class="board" id="{hid}" data-metric="{board['metric']}" aria-labelledby="{hid}-h">
<h2 id="{hid}-h">{escape(board['dataset'])} <small>({escape(board['dataset_title'])})</small>: {metric}</h2>
<table class="sortable leaderboard" data-board="{_attr(board['id'])}">
<caption>{metric} in %, mean ± std over seeds; rank and significance group among reproduced and submitted
entries ({escape(test['description'])}, Holm-corrected, α = {test['alpha']}); published rows in italics take no rank.
Click a column header to sort.</caption>
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
<details><summary>Cite this leaderboard</summary>
<pre class="citation">{escape(cite['text'])}</pre>
<pre class="bibtex">{escape(cite['bibtex'])}</pre>
</details>
</section>"""


def _cross(cross: dict, test: dict) -> str:
    metric = METRIC_LABELS[cross["metric"]]
    hid = f"cross-{cross['metric']}"
    parts = [f'<section class="cross" id="{hid}" data-metric="{cross["metric"]}" aria-labelledby="{hid}-h">',
             f'<h2 id="{hid}-h">Across datasets: average ranks ({metric})</h2>']
    if cross["average_ranks"]:
        rows = "".join(f'<tr><td>{escape(cross["labels"].get(m, m))}</td><td class="num" data-value="{r}">{r:.2f}</td></tr>'
                       for m, r in cross["average_ranks"].items())
        parts.append(f'<table class="sortable"><caption>Average rank (1 = best) over {len(cross["datasets"])} datasets '
                     f'with results for every compared method: {escape(", ".join(cross["datasets"]))}.</caption>'
                     '<thead><tr><th scope="col"><button type="button">Method</button></th>'
                     '<th scope="col"><button type="button">Average rank</button></th></tr></thead>'
                     f'<tbody>{rows}</tbody></table>')
    if cross["dropped_methods"] or cross["dropped_datasets"]:
        parts.append(f"<p>Left out to keep the block complete: methods {escape(_dropped(cross) or 'none')}; "
                     f"datasets {escape(', '.join(cross['dropped_datasets']) or 'none')}.</p>")
    if cross["friedman"]:
        f = cross["friedman"]
        parts.append(f"<p>Friedman χ² = {f['statistic']:.2f}, p = {f['p_value']:.3g} ({f['k']} methods, {f['n']} datasets); "
                     f"Nemenyi critical difference CD = {cross['critical_difference']:.2f} (α = {test['alpha']}).</p>")
    else:
        parts.append(f"<p>No Friedman test: {escape(cross['reason'] or '')}.</p>")
    if cross.get("diagram"):
        alt = (f"Critical-difference diagram of the {metric} average ranks: "
               + "; ".join(f"{cross['labels'].get(m, m)} {r:.2f}" for m, r in cross["average_ranks"].items()))
        parts.append(f'<figure><img src="{_attr(Path(cross["diagram"]).name)}" alt="{_attr(alt)}">'
                     f"<figcaption>Critical-difference diagram (Demšar 2006); methods joined by a bar cannot be "
                     f"told apart by the Nemenyi test.</figcaption></figure>")
    parts.append("</section>")
    return "\n".join(parts)


def render_site(doc: dict, out_dir: Path, reports_root: Path) -> Path:
    """Write ``out_dir/index.html`` and its assets; copy the diagrams and the JSON beside it."""
    from ..framework.atomic import write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "assets").mkdir(exist_ok=True)
    for name in ASSETS:
        write_text(out_dir / "assets" / name, resources.files(__package__).joinpath("assets", name).read_text())
    for cross in doc["cross_dataset"]:
        if cross.get("diagram") and (Path(reports_root) / cross["diagram"]).exists():
            shutil.copyfile(Path(reports_root) / cross["diagram"], out_dir / Path(cross["diagram"]).name)
    import json

    write_text(out_dir / "leaderboard.json", json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    # links written in the JSON are relative to reports/; the page lives in reports/site/
    prefix = "../"
    test, prof = doc["test"], doc["profile"]
    budgets = sorted({e.get("budget") or "" for b in doc["leaderboards"] for e in b["entries"]})
    budget_options = "".join(f'<option value="{_attr(b)}">{escape(b)}</option>' for b in budgets if b)
    metric_options = "".join(f'<option value="{m}"{" selected" if m == doc["primary_metric"] else ""}>'
                             f'{METRIC_LABELS[m]}</option>' for m in doc["metrics"])
    datasets = prof["datasets"]
    nav = "".join(f'<li><a href="#lb-{escape(d)}-{doc["primary_metric"]}">{escape(d)}</a></li>' for d in datasets)
    boards = "\n".join(_board(b, test, prefix) for b in doc["leaderboards"])
    cross = "\n".join(_cross(c, test) for c in doc["cross_dataset"])
    reports = "".join(f'<li><a href="{_attr(prefix + r["path"])}">{escape(r["name"])}</a> ({r["kind"]})</li>'
                      for r in doc["reports"])
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>clusterbench leaderboard: profile {escape(prof['name'])}</title>
<link rel="stylesheet" href="assets/leaderboard.css">
<script src="assets/leaderboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to the leaderboards</a>
<header>
<h1>clusterbench leaderboard: profile <code>{escape(prof['name'])}</code></h1>
<p>{escape(prof['description'])} {prof['seeds']} seeds per run.</p>
<p>{escape(doc['budget_note'])}</p>
<p>Groups: {escape(test['grouping'])} ({escape(test['description'])}, Holm correction, α = {test['alpha']}).
Across datasets: {escape(test['cross_dataset'])}.</p>
</header>
<nav aria-label="Datasets"><ul>{nav}<li><a href="#cross-{doc['primary_metric']}">across datasets</a></li></ul></nav>
<main id="main">
<form id="filters" aria-describedby="filter-status">
<fieldset>
<legend>Filters</legend>
<label for="f-metric">Metric</label>
<select id="f-metric" name="metric">{metric_options}</select>
<label for="f-budget">Profile / budget</label>
<select id="f-budget" name="budget"><option value="">all budgets (profile {escape(prof['name'])} and published)</option>{budget_options}</select>
<span role="group" aria-label="Source">
<label><input type="checkbox" name="source" value="reproduced" checked> reproduced</label>
<label><input type="checkbox" name="source" value="submitted" checked> submitted</label>
<label><input type="checkbox" name="source" value="published" checked> published</label>
</span>
<output id="filter-status" aria-live="polite"></output>
</fieldset>
</form>
{boards}
{cross}
<section id="reports" aria-labelledby="reports-h">
<h2 id="reports-h">The papers' tables and figures</h2>
{f'<ul>{reports}</ul>' if reports else '<p>No paper table or figure has been rendered in this checkout yet.</p>'}
</section>
</main>
<footer>
<p>Data: <a href="leaderboard.json">leaderboard.json</a> (schema {escape(doc['schema'])} {escape(doc['schema_version'])}),
state <code>{escape(doc['content_hash'])}</code>, {escape(doc['suite'])}, built {escape(doc['generated'])}.
Cite the suite with CITATION.cff and the papers with references.bib.</p>
</footer>
</body>
</html>
"""
    index = out_dir / "index.html"
    write_text(index, html)
    return index
