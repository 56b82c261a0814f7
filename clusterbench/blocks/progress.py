"""Progress of long fits: log lines with loss terms and elapsed / remaining time, a tqdm bar on a
terminal, history.csv written as training runs, and a heartbeat per minute (no torch import)."""

from __future__ import annotations

import contextlib as _contextlib
import contextvars as _contextvars
import logging as _logging
import sys as _sys
import time as _time

LOG = _logging.getLogger("clusterbench.training")
#: a loop logging every step prints at most one line per LOG_INTERVAL_S seconds (its last row always)
LOG_INTERVAL_S = 5.0
#: the live history.csv is rewritten at most this often
WRITE_INTERVAL_S = 10.0

#: the run a training loop belongs to (set by the runner around a fit; see :func:`run_progress`)
_RUN: _contextvars.ContextVar = _contextvars.ContextVar("clusterbench_run", default=None)


class _RunSink:
    """Per-fit state: logger, label, the live history.csv and the latest progress (for the heartbeat)."""

    def __init__(self, logger, label: str, history_path, write_rows):
        self.logger, self.label, self.history_path, self.write_rows = logger, label, history_path, write_rows
        self.rows: list[dict] = []
        self.latest: str = ""
        self.started = _time.perf_counter()
        self._written = 0.0

    def record(self, row: dict, last: bool = False) -> None:
        """Keep ``row``; rewrite history.csv at most every WRITE_INTERVAL_S seconds (and on the last row)."""
        if self.history_path is None:
            return
        self.rows.append(row)
        now = _time.perf_counter()
        if last or now - self._written >= WRITE_INTERVAL_S:
            self.write_rows(self.history_path, self.rows)
            self._written = now


@_contextlib.contextmanager
def run_progress(label: str, *, logger=None, history_path=None, write_rows=None, heartbeat_s: float = 60.0):
    """Scope of one fit: progress lines go to ``logger`` prefixed with ``label``; rows of the method's
    history are written to ``history_path`` as they come (``write_rows(path, rows)``, atomic); and a
    heartbeat line (elapsed time, latest step and losses) is logged every ``heartbeat_s`` seconds, so a
    long fit shows progress in its job log at least that often whatever its logging interval."""
    import threading

    sink = _RunSink(logger or LOG, label, history_path, write_rows)
    token = _RUN.set(sink)
    stop = threading.Event()

    def beat():
        while not stop.wait(heartbeat_s):
            elapsed = _time.perf_counter() - sink.started
            sink.logger.info("%s running for %s%s", sink.label, _hms(elapsed),
                             f"; latest: {sink.latest}" if sink.latest else "")

    thread = threading.Thread(target=beat, daemon=True) if heartbeat_s and heartbeat_s > 0 else None
    if thread is not None:
        thread.start()
    try:
        yield sink
    finally:
        stop.set()
        if thread is not None:
            thread.join()
        _RUN.reset(token)


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Progress(list):
    """A training loop's history list that reports as it grows.

    Use it where a loop keeps its history rows (``history = progress(total, "DEC")``); every
    ``append(row)`` (one per logging interval, with ``step`` and the loss terms) logs one line with
    the loss terms, elapsed and estimated remaining time, updates a tqdm bar when stderr is a
    terminal, and, for the method's own history (``record=True``), rewrites the run's history.csv.
    Otherwise it is the plain list the method returns.
    """

    def __init__(self, total: int, desc: str, *, record: bool = True, step_key: str = "step"):
        super().__init__()
        self.total, self.desc, self.record, self.step_key = int(total or 0), desc, record, step_key
        self.started = _time.perf_counter()
        self._logged = -float("inf")
        self._sink = _RUN.get()
        self._bar = None
        if _sys.stderr.isatty() and self.total > 0:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=self.total, desc=desc, leave=False, dynamic_ncols=True)
            except ImportError:
                self._bar = None

    def __reduce__(self):
        """Pickled as the plain list of rows (save ``list(history)`` where only plain data may be loaded,
        e.g. ``torch.load(weights_only=True)``)."""
        return (list, (list(self),))

    def append(self, row) -> None:
        super().append(row)
        if not isinstance(row, dict):
            return
        step = row.get(self.step_key)
        elapsed = _time.perf_counter() - self.started
        terms = ", ".join(f"{k} {v:.4g}" for k, v in row.items()
                          if k != self.step_key and isinstance(v, (int, float)) and not isinstance(v, bool))
        where = f"{self.desc} step {step}/{self.total}" if step is not None and self.total else self.desc
        eta = ""
        if step and self.total:
            eta = f", remaining ~{_hms(elapsed * max(self.total - step, 0) / step)}"
        line = f"{where}: {terms or '-'} (elapsed {_hms(elapsed)}{eta})"
        last = bool(step is not None and self.total and step >= self.total)
        sink = self._sink
        now = _time.perf_counter()
        if last or now - self._logged >= LOG_INTERVAL_S:
            logger = sink.logger if sink is not None else LOG
            logger.info("%s%s", f"{sink.label} " if sink is not None else "", line)
            self._logged = now
        if sink is not None:
            sink.latest = line
            if self.record:
                sink.record(row, last)
        if self._bar is not None and step is not None:
            self._bar.n = min(int(step), self.total)
            self._bar.set_postfix_str(terms[:60], refresh=False)
            self._bar.refresh()
            if step >= self.total:
                self._bar.close()
                self._bar = None


def progress(total: int, desc: str, *, record: bool = True, step_key: str = "step") -> Progress:
    """A :class:`Progress` history list for a loop of ``total`` steps."""
    return Progress(total, desc, record=record, step_key=step_key)
