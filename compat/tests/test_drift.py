"""The drift test: Baton serves every operation of the pinned Prefect server (see compat/drift.py).

It fails on a Prefect operation Baton does not serve, on a served operation whose required request or
response fields differ from Prefect's, and on a stale or unknown entry of compat/drift-omissions.txt,
unless the omissions file lists it with a reason. The coverage figure is printed on every run; keep
docs/compatibility.md current with `compat/.venv/bin/python compat/drift.py --baton-url URL --write-docs`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import drift  # noqa: E402


def _pinned_version() -> str:
    for line in (drift.REPO_ROOT / "compat" / "requirements.txt").read_text().splitlines():
        if line.startswith("prefect=="):
            return line.split("==", 1)[1].strip()
    return ""


@pytest.fixture(scope="module", autouse=True)
def only_on_the_pin():
    """The comparison is with the pinned server; older clients (make test-compat-matrix) skip it."""
    import prefect

    if prefect.__version__ != _pinned_version():
        pytest.skip(f"drift is checked against the pinned prefect {_pinned_version()}, not {prefect.__version__}")


@pytest.fixture(scope="module")
def report(only_on_the_pin, baton):
    """The comparison of the pinned Prefect server with the running Baton (built once: ~6 s)."""
    doc = baton.call("GET", "/openapi.json", expect=(200,))
    rep, _ = drift.run(doc)
    return rep


def test_every_prefect_operation_is_served_or_omitted_with_a_reason(report, needs_binary):
    rep = report
    text = drift.render(rep)
    print("\n" + text)
    assert rep.ok, "Baton's API drifted from the pinned Prefect server's:\n" + text


def test_omissions_file_is_well_formed_and_every_entry_has_a_reason():
    assert drift.OMISSIONS_FILE.exists(), "compat/drift-omissions.txt is missing"
    oms = drift.load_omissions()  # may hold no entry: Baton then serves every operation
    seen = set()
    for o in oms:
        assert o.reason and len(o.reason) > 10, f"line {o.line}: {o.key} needs a real reason"
        assert (o.key, o.what) not in seen, f"line {o.line}: {o.key} listed twice"
        seen.add((o.key, o.what))


def test_docs_record_the_current_coverage_figure(report, needs_binary):
    rep = report
    text = drift.DOCS_FILE.read_text()
    assert drift.DOCS_BEGIN in text, "docs/compatibility.md has no generated drift section"
    assert rep.coverage() in text, (
        f"docs/compatibility.md does not show the current figure {rep.coverage()!r}; "
        "run compat/.venv/bin/python compat/drift.py --baton-url URL --write-docs"
    )
