"""The registry browser in a real headless Chromium (Debian's `chromium` + `chromium-driver`, driven
by selenium): two versions seeded through gypsum_client, then project -> asset -> version ->
folder -> file, and the changes between the two, as a reader clicks through them. A file whose
path holds `<script>` and an `onerror=` image tag is shown as text, and no script of it runs.

Screenshots of the four main pages are taken on every run; with SELENITE_SCREENSHOTS=DIR they are
kept in DIR (`SELENITE_SCREENSHOTS=docs/images` refreshes the ones the README shows).
Skipped when Chromium is missing, except under CI=true (`.ci/run` installs it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

pytestmark = pytest.mark.backends("folder")  # the subject is the pages, not the storage

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER) and os.environ.get("CI") != "true":
    pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402  (only once Chromium is known to be there)
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

SHOTS = os.environ.get("SELENITE_SCREENSHOTS")  # read at import: the tests' isolation drops SELENITE_*
PROJECT, ASSET = "genomes", "hg38"
EVIL_DIR, EVIL_FILE = "<script>document.title='pwned'<", "script><img src=x onerror=alert(1)>.txt"
EVIL = f"{EVIL_DIR}/{EVIL_FILE}"  # the path reads <script>...</script><img ...>.txt


@pytest.fixture
def driver() -> Iterator[webdriver.Chrome]:
    assert CHROMIUM and DRIVER, "CI=true: .ci/run installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,820", "--hide-scrollbars"):
        options.add_argument(arg)
    chrome = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    chrome.set_page_load_timeout(60)
    try:
        yield chrome
    finally:
        chrome.quit()


def _seed(registry: Registry, tmp: Path) -> None:
    create_project(registry, PROJECT, owners=["admin"], uploaders=[{"id": "carol"}])
    create_project(registry, "cell-atlas", owners=["admin"])
    upload_version(registry, tmp, "2026-01", {"counts.h5ad": b"h5"}, project="cell-atlas", asset="lung")
    v1 = {"README.md": b"# hg38\n", "annotation/genes.gtf": b"gene\t1\n" * 300, "sequence/chr1.fa": b"ACGT" * 4096,
          "sequence/chr2.fa": b"TTGA" * 2048, EVIL: b"not a script\n", "notes.txt": b"draft\n"}
    upload_version(registry, tmp, "v1", v1, project=PROJECT, asset=ASSET)
    v2 = {"annotation/genes.gtf": b"gene\t1\n" * 320, "sequence/chrM.fa": b"GATC" * 512,
          "docs/notes.txt": b"draft\n"}
    links = {p: (PROJECT, ASSET, "v1", p) for p in ("README.md", "sequence/chr1.fa", "sequence/chr2.fa")}
    upload_version(registry, tmp, "v2", v2, links=links, project=PROJECT, asset=ASSET)
    # carol is an untrusted uploader: her version waits on probation for an owner's approval
    upload_version(registry, tmp, "v3-carol", {"annotation/genes.gtf": b"gene\t2\n" * 320}, project=PROJECT,
                   asset=ASSET, token=registry.token("carol"))


def _follow(chrome: webdriver.Chrome, element: WebElement) -> None:
    """Click a link or button and wait until the next page has replaced this one."""
    page = chrome.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(chrome, 30).until(expected_conditions.staleness_of(page))


def _no_script_ran(chrome: webdriver.Chrome) -> None:
    with pytest.raises(NoAlertPresentException):
        chrome.switch_to.alert.text  # noqa: B018  (reading it is the check: no alert is open)
    assert chrome.title != "pwned"


def test_walk_the_registry_in_chromium(registry: Registry, tmp_path: Path, driver: webdriver.Chrome) -> None:
    _seed(registry, tmp_path)
    shots = Path(SHOTS or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)

    driver.get(registry.url + "/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Projects"
    assert driver.find_element(By.LINK_TEXT, "/docs").get_attribute("href") == registry.url + "/docs"
    driver.save_screenshot(str(shots / "browser-projects.png"))
    _follow(driver, driver.find_element(By.LINK_TEXT, PROJECT))
    _follow(driver, driver.find_element(By.LINK_TEXT, ASSET))

    rows = driver.find_elements(By.CSS_SELECTOR, "table.versions tbody tr")
    assert [r.find_element(By.TAG_NAME, "a").text for r in rows] == ["v3-carol", "v2", "v1"]  # newest first
    assert "PROBATION" in rows[0].text.upper() and "carol" in rows[0].text and "LATEST" not in rows[0].text.upper()
    assert "latest" in rows[1].text and "admin" in rows[1].text and "latest" not in rows[2].text
    driver.save_screenshot(str(shots / "browser-versions.png"))

    _follow(driver, rows[2].find_element(By.LINK_TEXT, "v1"))
    assert "6 files" in driver.find_element(By.CSS_SELECTOR, "p.note").text
    _follow(driver, driver.find_element(By.LINK_TEXT, EVIL_DIR + "/"))  # the folder's name, as text
    _no_script_ran(driver)
    _follow(driver, driver.find_element(By.LINK_TEXT, EVIL_FILE))
    _no_script_ran(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == f"File {EVIL}"
    assert not driver.find_elements(By.CSS_SELECTOR, "main script, main img")  # text, not elements
    download = driver.find_element(By.CSS_SELECTOR, "a.download").get_attribute("href")
    assert download is not None and download.startswith(registry.url + "/file/genomes%2Fhg38%2Fv1%2F%3Cscript%3E")

    driver.get(f"{registry.url}/browse/{PROJECT}/{ASSET}/v2?dir=sequence")
    link = driver.find_element(By.XPATH, "//tr[td/a[text()='chr1.fa']]")
    assert "genomes/hg38@v1/sequence/chr1.fa" in link.text  # where a link points
    driver.save_screenshot(str(shots / "browser-files.png"))

    _follow(driver, driver.find_element(By.LINK_TEXT, ASSET))
    Select(driver.find_element(By.NAME, "old")).select_by_visible_text("v1")
    Select(driver.find_element(By.NAME, "new")).select_by_visible_text("v2")
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "form.compare button"))
    changes = {(r.find_element(By.CSS_SELECTOR, "span.kind").text, r.find_elements(By.TAG_NAME, "td")[1].text)
               for r in driver.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")}
    assert changes == {
        ("ADDED", "sequence/chrM.fa"),
        ("DELETED", EVIL),
        ("MODIFIED", "annotation/genes.gtf"),
        ("RENAMED", "notes.txt → docs/notes.txt"),
    }
    _no_script_ran(driver)
    driver.save_screenshot(str(shots / "browser-diff.png"))
    for name in ("projects", "versions", "files", "diff"):
        assert (shots / f"browser-{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
