"""Command line: ``clusterbench list | prepare | run | aggregate | render | datasets-table | check | index``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path


def _data_path(arg: str, option: str, kind: str = "file") -> Path:
    """``arg`` when it exists; else, for the default ``config/...`` / ``results/reference/...`` paths, the
    packaged copy (a run outside the checkout); else a ConfigError naming the option and the path."""
    from .registry import ConfigError
    from .resources import as_path, config_file, packaged, packaged_file

    path = Path(arg)
    if path.is_dir() if kind == "folder" else path.is_file():
        return path
    parts = path.parts
    if parts[:1] == ("config",) and len(parts) > 1:
        node = packaged("config")
        for part in parts[1:]:
            node = node / part
        if kind == "folder" and node.is_dir():
            return as_path(node)
        if kind == "file" and node.is_file():
            return as_path(config_file(*parts[1:]))
    if kind == "file" and parts[:2] == ("results", "reference") and len(parts) == 3:
        node = packaged("reference") / parts[2]
        if node.is_file():
            return as_path(packaged_file("reference", parts[2]))
    raise ConfigError(f"{option}: {kind} {arg} does not exist")


def _parse_seeds(values: list[str], where: str = "--seed") -> list[int]:
    from .seeds import parse_seeds

    return parse_seeds(values, where)


def _overrides(text: str | None) -> dict | None:
    """``--set``: a JSON object of config overrides, or a ConfigError saying what is wrong with it."""
    from .registry import ConfigError

    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"--set: not valid JSON ({error.msg} at column {error.colno}) in {text!r}; "
                          """expected an object such as '{"n_init": 20}'""") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--set: expected a JSON object such as '{{\"n_init\": 20}}', got {type(value).__name__} "
                          f"{text!r}")
    return value


def _existing(path: str, option: str, kind: str = "file") -> Path:
    """``path`` when it exists (a file, or a folder for ``kind="folder"``), else a ConfigError naming it."""
    from .registry import ConfigError

    found = Path(path)
    if not (found.is_dir() if kind == "folder" else found.is_file()):
        raise ConfigError(f"{option}: {kind} {path} does not exist")
    return found


def _requested_seeds(args) -> list[int] | None:
    """``--seeds`` of the reporting commands (None: the profile's seeds)."""
    return _parse_seeds(args.seeds, "--seeds") if args.seeds is not None else None


def cmd_list(args) -> int:
    from ..data import DATASETS
    from .registry import methods

    if args.json:
        print(json.dumps({
            "methods": {n: {"display": e.display, "kind": e.kind, "paper": e.paper,
                            "implementation": e.implementation} for n, e in methods().items()},
            "datasets": {n: {"source": s.source, "n_samples": s.n_samples, "shape": s.shape,
                             "n_classes": s.n_classes} for n, s in DATASETS.items()}}, indent=2))
        return 0
    print("Methods:")
    for name, entry in methods().items():
        print(f"  {name:<12} {entry.kind:<9} {entry.display:<12} {entry.implementation}")
    print("Datasets:")
    for name, spec in DATASETS.items():
        shape = "x".join(map(str, spec.shape))
        print(f"  {name:<24} {spec.source:<12} N={spec.n_samples:<7} {shape:<10} K={spec.n_classes:<4} {spec.title}")
    return 0


def cmd_prepare(args) -> int:
    """Fetch + convert a dataset; write a status JSON (available | unavailable)."""
    from ..data import DatasetUnavailable, get_spec, load_dataset, processed_path
    from .atomic import write_json

    spec = get_spec(args.dataset)
    status = {"dataset": args.dataset, "source": spec.source}
    try:
        data = load_dataset(args.dataset, mirror=args.mirror or None)
        status.update(status="available", n_samples=data.n_samples, shape=list(data.X.shape[1:]),
                      n_classes=data.n_classes, path=str(processed_path(args.dataset)))
        print(f"{args.dataset}: {data.n_samples} samples, shape {tuple(data.X.shape[1:])}, {data.n_classes} classes")
    except DatasetUnavailable as error:
        if args.strict:
            raise
        status.update(status="unavailable", reason=str(error))
        print(f"{args.dataset}: unavailable: {error}", file=sys.stderr)
    if args.out:
        write_json(args.out, status)
    return 0


def cmd_run(args) -> int:
    from .registry import load_profile
    from .runner import check_device, check_precision, run_precision

    seeds = _parse_seeds(args.seed) if args.seed is not None else load_profile(args.profile)["seeds"]
    overrides = _overrides(args.set)
    check_device(args.device)
    with _environ("CLUSTERBENCH_PRECISION", args.precision):  # run_precision reads it where records are hashed
        check_precision(run_precision(), args.device)
        return _run(args, seeds, overrides)


@contextlib.contextmanager
def _environ(name: str, value: str | None):
    """``$name`` = ``value`` for the block (restored after); nothing when ``value`` is None."""
    saved = os.environ.get(name)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        if value is not None and saved is None:
            del os.environ[name]
        elif value is not None:
            os.environ[name] = saved


def _run(args, seeds, overrides) -> int:
    from .runner import run_seeds

    pretrain = None
    if args.pretrain:
        from ..blocks.pretrain import get_recipe
        from .registry import ConfigError, get_method

        if not get_method(args.method).pretrain:
            raise ConfigError(f"--pretrain {args.pretrain}: method {args.method!r} has no shared pretraining")
        get_recipe(args.pretrain)  # unknown recipe: one line naming config/pretrain/
        pretrain = {"recipe": args.pretrain}
    records = run_seeds(args.method, args.dataset, seeds, profile=args.profile, out=Path(args.out),
                        mirror=args.mirror or None, device=args.device, strict=args.strict, force=args.force,
                        overrides=overrides, pretrain=pretrain, log=lambda msg: print(msg, flush=True))
    if args.summary:
        from .atomic import write_json

        write_json(args.summary, [{k: r.get(k) for k in ("seed", "status", "reason", "metrics", "wall_s")}
                                  for r in records])
    failed = [r for r in records if r["status"] == "failed"]
    if failed:
        print(f"{len(failed)} of {len(records)} seeds failed: {failed[0]['reason']}", file=sys.stderr)
    return 0


def cmd_aggregate(args) -> int:
    from .aggregate import aggregate
    from .atomic import atomic_path

    pairs = None
    if args.pairs:
        pairs = [tuple(p.split("/", 1)) for p in args.pairs]
    frame = aggregate(Path(args.runs), args.profile, pairs, _requested_seeds(args))
    with atomic_path(args.out) as tmp:
        frame.to_csv(tmp, index=False)
    print(f"{len(frame)} runs -> {args.out}")
    return 0


def _published():
    try:
        from .published import load_published
    except ImportError:
        return None
    return load_published()


def cmd_render(args) -> int:
    import pandas as pd

    from .atomic import write_text
    from .registry import load_profile
    from .report.tables import load_spec, render, spec_profile

    spec = load_spec(_data_path(args.spec, "--spec"))
    args.profile = spec_profile(spec, args.profile, args.table_profile)  # paper tables name their profile
    profile = load_profile(args.profile)
    datasets = args.datasets or profile["datasets"]
    if args.runs:
        runs = pd.read_csv(_existing(args.runs, "--runs"))
    else:
        from .aggregate import aggregate
        from .report.tables import spec_pairs

        runs = aggregate(Path(args.runs_root), args.profile, spec_pairs(spec, datasets), _requested_seeds(args))
    md, tex = render(spec, runs, _published(), args.profile, datasets)
    out = Path(args.out)
    write_text(out, md)
    write_text(out.with_suffix(".tex"), tex)
    print(f"wrote {out} and {out.with_suffix('.tex')}")
    return 0


def cmd_pretrain(args) -> int:
    """Pretrain (or validate) the shared autoencoder of (profile, dataset, recipe) for every seed, in one process."""
    from .atomic import write_json
    from ..blocks.pretrain import pretrain_seeds
    from .registry import load_profile

    from .runner import check_device

    seeds = _parse_seeds(args.seed) if args.seed is not None else load_profile(args.profile)["seeds"]
    check_device(args.device)
    out = Path(args.out) if args.out else None
    # weights go beside done.json: {root}/{profile}/{dataset}/{recipe}/done.json
    root = out.parents[3] if out is not None and len(out.parents) > 3 else None
    summary = pretrain_seeds(args.recipe, args.dataset, args.profile, seeds, device=args.device,
                             mirror=args.mirror or None, root=root, strict=args.strict,
                             log=lambda msg: print(msg, flush=True))
    if out is not None:
        write_json(out, summary)
    return 0


def cmd_datasets_table(args) -> int:
    from .atomic import read_json, write_text
    from .registry import load_profile
    from .report.tables import render_dataset_table

    datasets = args.datasets or load_profile(args.profile)["datasets"]
    statuses = {}
    for name in datasets:
        path = Path(args.status_dir) / f"{name}.json"
        if path.exists():
            statuses[name] = read_json(path)
    source = tuple(args.published.split(":", 1)) if args.published else None
    md, tex = render_dataset_table(datasets, statuses, args.profile, _published() if source else None, source)
    out = Path(args.out)
    write_text(out, md)
    write_text(out.with_suffix(".tex"), tex)
    return 0


def cmd_check(args) -> int:
    """Regression gate: exit 1 when a gated cell fails or has no runs (see clusterbench/framework/gate.py)."""
    import pandas as pd

    from .gate import (check_published, check_reference, format_report, load_config, reference_frame,
                        REFERENCE_COLUMNS)
    from .atomic import atomic_path, write_text
    from .report.tables import suite_version

    config = load_config(_data_path(args.config, "--config"))
    profile = args.profile or config.get("profile", "paper")
    if args.write_reference:
        from .aggregate import aggregate

        runs = aggregate(Path(args.runs_root), profile, seeds=_requested_seeds(args))
        if args.methods:
            runs = runs[runs.method.isin(args.methods)]
        if args.datasets:
            runs = runs[runs.dataset.isin(args.datasets)]
        metrics = (config.get("reference") or {}).get("metrics", ["acc", "nmi", "ari"])
        frame = reference_frame(runs, profile, metrics)
        out = Path(args.write_reference)
        if out.exists():  # keep the reference rows of other (dataset, method) pairs
            old = pd.read_csv(out)
            keep = ~old.set_index(["dataset", "method"]).index.isin(frame.set_index(["dataset", "method"]).index)
            frame = pd.concat([old[keep], frame], ignore_index=True).sort_values(["dataset", "method", "metric"])
        with atomic_path(out) as tmp:
            frame[REFERENCE_COLUMNS].to_csv(tmp, index=False)
        print(f"{len(frame)} reference rows -> {out}")
        return 0
    if args.reference is not None:
        path = _data_path(args.reference or f"results/reference/{profile}.csv", "--reference")
        report = check_reference(config, Path(args.runs_root), profile, pd.read_csv(path), args.methods,
                                 args.datasets, _requested_seeds(args))
    else:
        report = check_published(config, Path(args.runs_root), profile, _published(), args.methods, args.datasets,
                                 _requested_seeds(args))
    text, md = format_report(report, suite_version(), str(args.config))
    print(text, end="")
    if args.out:
        write_text(args.out, md)
    return 1 if report.failed else 0


def cmd_validate(args) -> int:
    """Check every configuration file (registry, recipes, profiles, table specs, gate files)."""
    from .validate import validate_configuration

    counts = validate_configuration(args.methods or None)
    print("configuration valid: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


def cmd_index(args) -> int:
    from .atomic import write_text
    from .registry import load_profile
    from .report.index import render_index

    datasets = args.datasets or load_profile(args.profile)["datasets"]
    if args.tables == "config/tables":   # the packaged specs with the user folder's over them
        from .resources import as_path, config_files

        found = config_files("tables", "**/*.yaml")
        tables = sorted(((name, as_path(node)) for name, node in found.items()),
                        key=lambda item: (item[0].count("/"), item[0]))
    else:
        tables = _data_path(args.tables, "--tables", "folder")
    md = render_index(tables, Path(args.runs_root), Path(args.out).parent, args.profile, datasets,
                      _published(), table_profile=args.table_profile, seeds=_requested_seeds(args))
    write_text(args.out, md)
    print(f"wrote {args.out}")
    return 0


def cmd_plan(args) -> int:
    """Cost preview of a Snakemake target: its jobs with estimated CPU hours (see clusterbench/framework/plan.py)."""
    from .plan import plan

    try:
        text = plan(args.target, args.profile, seeds=args.seeds, forceall=args.all, costs_path=Path(args.costs))
    except RuntimeError as error:
        print(f"clusterbench: error: {error}", file=sys.stderr)
        return 2
    print(text, end="")
    if args.out:
        from .atomic import write_text

        write_text(args.out, text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="clusterbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"clusterbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="registered methods and datasets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("prepare", help="download/convert a dataset and write its status JSON")
    p.add_argument("--dataset", required=True)
    p.add_argument("--mirror", default="")
    p.add_argument("--strict", action="store_true", help="fail when the dataset cannot be obtained")
    p.add_argument("--out", help="status JSON path")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("run", help="run one method on one dataset for some seeds")
    p.add_argument("--method", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--seed", action="append", help="seed(s): 0, 0-9 or 1,3,5 (default: the profile's)")
    p.add_argument("--profile", default="quick")
    p.add_argument("--out", default="results/runs")
    p.add_argument("--mirror", default="")
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=("fp32", "tf32", "bf16"),
                   help="GPU numerics of the method's training (default $CLUSTERBENCH_PRECISION or fp32; "
                        "recorded, and part of a non-fp32 record's hash)")
    p.add_argument("--strict", action="store_true")
    p.add_argument("--force", action="store_true", help="rerun seeds that already have a record")
    p.add_argument("--set", help='JSON object of config overrides, e.g. \'{"n_init": 20}\'')
    p.add_argument("--pretrain", help="pretraining recipe (config/pretrain/) replacing the method's YAML "
                                      "`pretrain:`, a named option, e.g. R-DC with DynAE's ACAI schedule: acai")
    p.add_argument("--summary", help="write a JSON summary of the seeds here (the DAG's job output)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("aggregate", help="collect a profile's records into one CSV")
    p.add_argument("--profile", required=True)
    p.add_argument("--runs", default="results/runs")
    p.add_argument("--pairs", nargs="*", help="dataset/method pairs to include (default: all)")
    p.add_argument("--seeds", help="the seeds to report, e.g. 0-9 (default: the profile's); records of other "
                   "seeds or configurations are left out and listed")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("render", help="render a table spec to markdown and LaTeX")
    p.add_argument("--spec", required=True)
    p.add_argument("--runs", help="runs.csv from aggregate (default: read the records under --runs-root)")
    p.add_argument("--runs-root", default="results/runs")
    p.add_argument("--datasets", nargs="*", help="the datasets of 'datasets: profile' (default: the profile's)")
    p.add_argument("--profile", required=True)
    p.add_argument("--table-profile", help="show this profile's runs even where the spec names its own")
    p.add_argument("--seeds", help="the seeds to report, e.g. 0-9 (default: the profile's); records of other "
                   "seeds or configurations are left out and listed")
    p.add_argument("--out", required=True, help="markdown path; the .tex is written beside it")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("pretrain", help="pretrain a shared autoencoder recipe for some seeds (reused by methods)")
    p.add_argument("--recipe", required=True, help="config/pretrain/{recipe}.yaml")
    p.add_argument("--dataset", required=True)
    p.add_argument("--seed", action="append", help="seed(s): 0, 0-9 or 1,3,5 (default: the profile's)")
    p.add_argument("--profile", default="quick")
    p.add_argument("--mirror", default="")
    p.add_argument("--device", default="cpu")
    p.add_argument("--strict", action="store_true")
    p.add_argument("--out", help="summary JSON, .../{profile}/{dataset}/{recipe}/done.json; weights go beside it")
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("datasets-table", help="render the dataset summary (table 1)")
    p.add_argument("--profile", required=True)
    p.add_argument("--status-dir", default="resources/datasets")
    p.add_argument("--datasets", nargs="*", help="default: the profile's")
    p.add_argument("--published", metavar="PAPER:TABLE", help="print that table's N / D / classes beside, e.g. ahcl:1")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_datasets_table)

    p = sub.add_parser("check", help="regression gate against published numbers or the stored reference")
    p.add_argument("--profile", help="profile whose runs are checked (default: config/regression.yaml's)")
    p.add_argument("--config", default="config/regression.yaml")
    p.add_argument("--runs-root", default="results/runs")
    p.add_argument("--reference", nargs="?", const="", default=None,
                   help="compare with the suite's own reference (default file results/reference/{profile}.csv)")
    p.add_argument("--write-reference", metavar="CSV", help="store the current runs as the reference and exit")
    p.add_argument("--methods", nargs="*", help="check (or store the reference of) these methods' cells only")
    p.add_argument("--datasets", nargs="*", help="check (or store the reference of) these datasets' cells only")
    p.add_argument("--seeds", help="the seeds to report, e.g. 0-9 (default: the profile's); records of other "
                   "seeds or configurations are left out and listed")
    p.add_argument("--out", default="reports/regression.md", help="markdown report ('' to skip)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("plan", help="cost preview: a target's jobs with estimated CPU hours, before running it")
    p.add_argument("target", help="a Snakemake target, e.g. reports/ahcl/table2.md")
    p.add_argument("--profile", default="paper", help="the profile the DAG runs (--config profile=...)")
    p.add_argument("--seeds", type=int, help="seeds per job (default: the profile's)")
    p.add_argument("--all", action="store_true", help="price every job from scratch (--forceall), not only missing ones")
    p.add_argument("--costs", default="results/costs.csv", help="measured costs (benchmarks/costs.py)")
    p.add_argument("--out", help="also write the markdown here")
    p.set_defaults(func=cmd_plan)
    p = sub.add_parser("validate", help="check every configuration file before running anything")
    p.add_argument("--methods", nargs="*", help="check only these methods' entries (default: all)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("index", help="reports/index.md: every table report with its status")
    p.add_argument("--profile", default="quick", help="profile of specs without their own")
    p.add_argument("--table-profile", help="profile of every spec, overriding the specs' own")
    p.add_argument("--seeds", help="the seeds to report, e.g. 0-9 (default: the profile's); records of other "
                   "seeds or configurations are left out and listed")
    p.add_argument("--tables", default="config/tables")
    p.add_argument("--runs-root", default="results/runs")
    p.add_argument("--datasets", nargs="*", help="the datasets of 'datasets: profile' (default: the profile's)")
    p.add_argument("--out", default="reports/index.md")
    p.set_defaults(func=cmd_index)

    from ..leaderboard.cli import add_parsers as _leaderboard_parsers

    _leaderboard_parsers(sub)  # clusterbench leaderboard / site
    return parser


def _terminate_on_sigterm() -> None:
    """SIGTERM (Snakemake cancelling a job, a scheduler's time limit) raises SystemExit(143) in the main
    thread, so ``finally`` blocks run: part files are removed, seed locks released. Only SIGKILL leaves
    part files; the next writer of that folder removes those of dead processes."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    from ..data import ChecksumError, DatasetUnavailable, ProcessedFileError
    from .records import RecordError
    from .registry import ConfigError
    from .resources import MissingDataError

    args = build_parser().parse_args(argv)
    import logging
    import os

    # progress lines of training loops (clusterbench.blocks.progress) and run heartbeats, on stderr
    # (other libraries' loggers stay at WARNING)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("clusterbench").setLevel(os.environ.get("CLUSTERBENCH_LOG_LEVEL", "INFO").upper())
    _terminate_on_sigterm()
    try:
        return args.func(args)
    except (ConfigError, MissingDataError, DatasetUnavailable, ChecksumError, ProcessedFileError, RecordError,
            KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"clusterbench: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
