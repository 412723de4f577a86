"""The real-Asterisk fixtures. `sh bin/test` builds (or finds) Asterisk with bin/asterisk and passes its prefix in
IVR_ASTERISK_PREFIX; run alone, pytest asks bin/asterisk itself. When there is none, the tests marked `asterisk`
are skipped with the reason; tests/conftest.py ends the run with one line saying so and fails it under CI."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# The shared checks of test_lines*.py assert in a helper module: rewritten, a failure shows the values compared.
pytest.register_assert_rewrite("tests.asterisk.lines")

from tests.asterisk.site import Site  # noqa: E402 (after the rewrite registration)
from tests.conftest import NO_ASTERISK, ROOT  # noqa: E402


def _prefix() -> tuple[Path | None, str]:
    if os.environ.get("IVR_ASTERISK_MISSING"):
        return None, os.environ["IVR_ASTERISK_MISSING"]
    found = subprocess.run(["sh", str(ROOT / "bin" / "asterisk")], capture_output=True, text=True)
    if found.returncode != 0:
        last = (found.stderr.strip().splitlines() or ["bin/asterisk failed"])[-1]
        return None, last
    return Path(found.stdout.strip()), ""


@pytest.fixture(scope="session")
def asterisk_prefix() -> Path:
    prefix, why = _prefix()
    if prefix is None:
        pytest.skip(f"{NO_ASTERISK}{why}")
    return prefix


def _site(request: pytest.FixtureRequest, prefix: Path, folder: Path) -> Iterator[Site]:
    site = Site(folder, prefix, edit=getattr(request.module, "EDIT_RULES", None))
    site.build()
    site.start()
    try:
        yield site
    finally:
        site.stop()
        failed = request.node.stash.get(FAILED_KEY, False)
        if site.switch is not None and not failed:
            site.switch.remove()


FAILED_KEY = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest, asterisk_prefix: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The module's own site: the engine and a throwaway Asterisk running the generated files. A module may set
    EDIT_RULES (rules text -> rules text) for a variant of the shipped rules."""
    yield from _site(request, asterisk_prefix, tmp_path_factory.mktemp("site"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.asterisk)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """A failing test carries the tail of Asterisk's log and of the engine's log of its module's site."""
    report: pytest.TestReport = yield
    if report.failed and "site" in getattr(item, "fixturenames", ()):
        site = getattr(item, "funcargs", {}).get("site")
        module = item.getparent(pytest.Module)
        if isinstance(site, Site):
            if module is not None:
                module.stash[FAILED_KEY] = True  # its Asterisk folder is kept for a look
            if site.switch is not None:
                report.sections.append(("Asterisk messages.log (tail)", site.switch.log_tail()))
                report.sections.append(("Asterisk folder", str(site.switch.folder)))
            if site.engine is not None:
                report.sections.append(("engine log (tail)", "\n".join(site.engine.log_text().splitlines()[-80:])))
    return report
