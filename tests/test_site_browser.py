"""The leaderboard site in a real browser (headless Chromium through Selenium), built by Snakemake from a
tiny smoke run in a temporary copy of the workflow. Skips only where no Chromium / chromedriver is
installed (.ci/run installs Debian's chromium and chromium-driver)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

REPO = Path(__file__).resolve().parent.parent


def _browser_paths():
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if Path(p).exists()), None)
    binary = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                  None)
    return driver, binary


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """reports/site/index.html of a smoke run: K-Means and SC-Ncut on the smoke datasets, plus the example
    submission (GMM), so the cross-dataset test has three methods on two datasets."""
    root = tmp_path_factory.mktemp("site")
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / name, root / name)
    for name in ("workflow", "config", "submissions"):
        shutil.copytree(REPO / name, root / name)
    shutil.copytree(REPO / "results" / "published", root / "results" / "published")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(root), "OMP_NUM_THREADS": "1",
           "CLUSTERBENCH_DATA": str(root / "resources" / "data")}
    result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "reports/site/index.html",
                             "reports/leaderboard.md", "--config", "profile=smoke", "methods=[kmeans,spectral]"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def browser():
    driver_path, binary = _browser_paths()
    if not driver_path or not binary:
        pytest.skip("no Chromium / chromedriver installed (.ci/run installs Debian chromium, chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--allow-file-access-from-files", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def _visible_rows(table):
    return [r for r in table.find_elements("css selector", "tbody tr") if r.is_displayed()]


@pytest.mark.slow
def test_site_in_a_real_browser(site, browser):
    from selenium.webdriver.support.ui import Select

    doc = json.loads((site / "reports" / "leaderboard.json").read_text())
    index = site / "reports" / "site" / "index.html"
    browser.get(index.as_uri())
    assert "clusterbench leaderboard" in browser.title

    # rows shown match the JSON (the primary metric's boards are shown, the others hidden)
    tables = {t.get_attribute("data-board"): t for t in browser.find_elements("css selector", "table.leaderboard")}
    assert set(tables) == {b["id"] for b in doc["leaderboards"]}
    for board in doc["leaderboards"]:
        table = tables[board["id"]]
        shown = [r.get_attribute("data-entry") for r in _visible_rows(table)]
        if board["metric"] == doc["primary_metric"]:
            assert shown == [e["id"] for e in board["entries"]], board["id"]
            for row, entry in zip(_visible_rows(table), board["entries"]):
                cells = row.find_elements("tag name", "td")
                assert cells[4].text == f"{entry['mean']:.1f}"
                assert cells[0].text == ("–" if entry["rank"] is None else str(entry["rank"]))
        else:
            assert shown == [], board["id"]
    assert {"reproduced", "submitted"} <= {e["source"] for b in doc["leaderboards"] for e in b["entries"]}

    # clicking a header re-sorts: Mean ascending, then descending
    board = next(b for b in doc["leaderboards"] if b["id"].endswith("/digits/acc"))
    table = tables[board["id"]]
    mean_header = table.find_elements("css selector", "thead th button")[4]
    mean_header.click()
    ascending = [float(r.find_elements("tag name", "td")[4].text) for r in _visible_rows(table)]
    assert ascending == sorted(ascending) and len(ascending) == len(board["entries"])
    assert mean_header.find_element("xpath", "..").get_attribute("aria-sort") == "ascending"
    mean_header.click()
    descending = [float(r.find_elements("tag name", "td")[4].text) for r in _visible_rows(table)]
    assert descending == sorted(ascending, reverse=True)

    # filters: unticking "submitted" hides the submitted rows; the metric select shows the NMI boards
    before = len(_visible_rows(table))
    browser.find_element("css selector", "input[name=source][value=submitted]").click()
    after = _visible_rows(table)
    n_sub = sum(e["source"] == "submitted" for e in board["entries"])
    assert n_sub >= 1 and len(after) == before - n_sub
    assert all(r.get_attribute("data-source") != "submitted" for r in after)
    Select(browser.find_element("id", "f-metric")).select_by_value("nmi")
    nmi = next(b for b in doc["leaderboards"] if b["id"].endswith("/digits/nmi"))
    assert len(_visible_rows(tables[nmi["id"]])) == sum(e["source"] != "submitted" for e in nmi["entries"])
    assert _visible_rows(table) == []
    budgets = Select(browser.find_element("id", "f-budget"))
    budgets.select_by_index(1)
    chosen = budgets.first_selected_option.get_attribute("value")
    assert all(r.get_attribute("data-budget") == chosen for r in _visible_rows(tables[nmi["id"]]))

    # every link resolves: local links to existing files, fragments to ids on the page
    links = browser.find_elements("css selector", "a[href]")
    assert any("summary.json" in a.get_attribute("href") for a in links)
    for a in links:
        href = a.get_attribute("href")
        url = urlparse(href)
        if url.scheme == "file":
            target = Path(unquote(url.path))
            assert target.is_file(), href
            if url.fragment and target == index:
                assert browser.find_elements("id", url.fragment), href
        else:
            assert url.scheme == "https" and a.get_attribute("rel") == "external", href
    # the critical-difference diagram is drawn and shown
    images = browser.find_elements("css selector", "img")
    assert images and all(browser.execute_script("return arguments[0].naturalWidth", img) > 0 for img in images)
    assert all(img.get_attribute("alt") for img in images)

    # no console error
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
