"""``clusterbench leaderboard`` and ``clusterbench site`` (added to the main parser by :func:`add_parsers`)."""

from __future__ import annotations

import json
from pathlib import Path

from . import TESTS


def cmd_leaderboard(args) -> int:
    from ..framework.published import load_published
    from ..framework.registry import load_profile
    from ..framework.report.tables import suite_version
    from ..framework.runner import _git_revision
    from .build import LEADERBOARD_METRICS, build, draw_diagrams, paper_reports, render_markdown
    from .results import results_table, write_csv
    from .submissions import load_submissions

    reports = Path(args.out_md).parent
    submissions = load_submissions(Path(args.submissions) if args.submissions else None)
    published = load_published(args.published) if args.published else None
    table = results_table(Path(args.runs_root), published, submissions, link_root=reports)
    write_csv(table, Path(args.out_csv))
    cd = {m: Path(args.cd_prefix + f"{m}.png") for m in LEADERBOARD_METRICS} if args.cd_prefix else {}
    doc = build(table, args.profile, load_profile(args.profile), test=args.test, alpha=args.alpha,
                primary=args.metric, git_revision=_git_revision(), suite=suite_version(),
                reports=paper_reports(reports),
                diagram_names={m: str(p.resolve().relative_to(reports.resolve())) for m, p in cd.items()})
    draw_diagrams(doc, cd)
    from ..framework.atomic import write_text

    write_text(args.out_json, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    write_text(args.out_md, render_markdown(doc, args.metric))
    boards = [b for b in doc["leaderboards"] if b["metric"] == args.metric]
    print(f"leaderboard {args.profile}: {len(boards)} datasets, {len(table)} result rows; {doc['content_hash']}")
    return 0


def cmd_site(args) -> int:
    from .site import render_site

    doc = json.loads(Path(args.leaderboard).read_text())
    index = render_site(doc, Path(args.out).parent, Path(args.leaderboard).parent)
    print(f"site: {index}")
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("leaderboard", help="leaderboards of a profile: markdown, JSON, tidy CSV, CD diagrams")
    p.add_argument("--profile", required=True)
    p.add_argument("--runs-root", default="results/runs")
    p.add_argument("--published", default="results/published", help="folder of published CSVs ('' for none)")
    p.add_argument("--submissions", default="submissions", help="folder of submissions ('' for none)")
    p.add_argument("--metric", default="acc", choices=("acc", "nmi", "ari"), help="primary metric of the markdown")
    p.add_argument("--test", default="welch", choices=TESTS, help="pairwise test against a group's leader")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--out-md", default="reports/leaderboard.md")
    p.add_argument("--out-json", default="reports/leaderboard.json")
    p.add_argument("--out-csv", default="reports/results.csv", help="the tidy table of every result")
    p.add_argument("--cd-prefix", default="reports/leaderboard_cd_",
                   help="critical-difference diagrams go to {prefix}{metric}.png")
    p.set_defaults(func=cmd_leaderboard)

    p = sub.add_parser("site", help="static leaderboard site from reports/leaderboard.json")
    p.add_argument("--leaderboard", default="reports/leaderboard.json")
    p.add_argument("--out", default="reports/site/index.html")
    p.set_defaults(func=cmd_site)
