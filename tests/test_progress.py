"""Long fits show progress: log lines with loss terms and elapsed / remaining time, history.csv written
while training runs, a heartbeat whatever the loop's interval, ``clusterbench --version``."""

import csv
import logging
import time

import pytest

from clusterbench.blocks import progress as P


@pytest.fixture(autouse=True)
def _every_row(monkeypatch):
    monkeypatch.setattr(P, "LOG_INTERVAL_S", 0.0)
    monkeypatch.setattr(P, "WRITE_INTERVAL_S", 0.0)


def _write(path, rows):
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def test_progress_lines_name_loss_terms_and_times(caplog):
    caplog.set_level(logging.INFO)
    history = P.progress(100, "DEC", step_key="iter")
    history.append({"iter": 25, "loss_kl": 0.125, "delta_label": 0.5})
    assert history == [{"iter": 25, "loss_kl": 0.125, "delta_label": 0.5}]    # still the method's list
    line = caplog.records[-1].getMessage()
    assert "DEC step 25/100" in line and "loss_kl 0.125" in line and "delta_label 0.5" in line
    assert "elapsed 0m00s" in line and "remaining ~" in line


def test_history_csv_grows_while_training_runs(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    path = tmp_path / "history.csv"
    with P.run_progress("[dec/digits] seed 0", history_path=path, write_rows=_write, heartbeat_s=0):
        pretraining = P.progress(10, "ae_mse pretraining", record=False)
        pretraining.append({"step": 10, "loss_rec": 0.5})
        assert not path.exists()                          # pretraining rows are not the method's history
        history = P.progress(3, "DEC", step_key="iter")
        for it in range(1, 4):
            history.append({"iter": it, "loss_kl": 1.0 / it})
            rows = list(csv.DictReader(path.open()))
            assert [int(r["iter"]) for r in rows] == list(range(1, it + 1))   # on disk before the fit ends
    assert any(r.getMessage().startswith("[dec/digits] seed 0 ae_mse pretraining step 10/10") for r in caplog.records)


def test_heartbeat_reports_a_silent_fit(caplog):
    caplog.set_level(logging.INFO)
    with P.run_progress("[ahcl/usps] seed 3", heartbeat_s=0.05):
        P.progress(1000, "AHCL", step_key="epoch").append({"epoch": 1, "loss_ahcl": 0.25})
        time.sleep(0.3)
    beats = [r.getMessage() for r in caplog.records if "running for" in r.getMessage()]
    assert beats and beats[0].startswith("[ahcl/usps] seed 3 running for 0m00s; latest: AHCL step 1/1000")


def test_version(capsys):
    from clusterbench import __version__
    from clusterbench.framework.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"clusterbench {__version__}"
