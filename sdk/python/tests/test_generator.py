"""The connector factories are generated from connectors/*.yaml; --check says when the
generated module is stale, and why."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[1]
REPO = SDK.parents[1]


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_connectors", SDK / "scripts" / "gen_connectors.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_connectors"] = mod
    spec.loader.exec_module(mod)
    return mod


gen = load_generator()


def test_the_committed_module_is_what_the_catalog_generates(capsys: pytest.CaptureFixture[str]) -> None:
    assert gen.main(["--check"]) == 0, capsys.readouterr().err


def test_every_connector_file_has_a_factory_method() -> None:
    from agentvault import ARXClient, SyncARXClient
    from agentvault._connectors import CATALOG

    names = sorted(p.stem for p in (REPO / "connectors").glob("*.yaml"))
    assert sorted(CATALOG) == names
    arx, sync = ARXClient(api_key="k"), SyncARXClient(api_key="k")
    for name in names:
        assert getattr(arx, name)().name == name
        assert getattr(sync, name)().name == name
    assert type(arx.crowdstrike()).__name__ == "CrowdStrikeConnector"
    assert type(sync.jira()).__name__ == "SyncJiraConnector"


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    connectors = tmp_path / "connectors"
    shutil.copytree(REPO / "connectors", connectors)
    out = tmp_path / "_connectors.py"
    assert gen.main(["--connectors", str(connectors), "--out", str(out)]) == 0
    return connectors, out


def check(connectors: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = gen.main(["--check", "--connectors", str(connectors), "--out", str(out)])
    return code, capsys.readouterr().err


def test_check_names_a_changed_a_new_and_a_removed_file(
    workspace: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    connectors, out = workspace
    assert check(connectors, out, capsys)[0] == 0
    jira = connectors / "jira.yaml"
    jira.write_text(jira.read_text().replace("Search issues with JQL.", "Search issues."))
    shutil.copy(connectors / "okta.yaml", connectors / "okta2.yaml")
    (connectors / "okta2.yaml").write_text((connectors / "okta2.yaml").read_text().replace("name: okta", "name: okta2", 1))
    (connectors / "wiz.yaml").unlink()
    code, err = check(connectors, out, capsys)
    assert code == 1
    assert "stale" in err
    assert "changed: connectors/jira.yaml" in err
    assert "new:     connectors/okta2.yaml" in err
    assert "removed: connectors/wiz.yaml" in err
    assert "gen_connectors.py" in err
    # Regenerating fixes it.
    assert gen.main(["--connectors", str(connectors), "--out", str(out)]) == 0
    assert check(connectors, out, capsys)[0] == 0


def test_check_catches_a_hand_edit(workspace: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    connectors, out = workspace
    out.write_text(out.read_text().replace("risk='critical'", "risk='low'"))
    code, err = check(connectors, out, capsys)
    assert code == 1 and "edited by hand" in err


def test_a_broken_connector_file_is_named(workspace: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    connectors, out = workspace
    (connectors / "broken.yaml").write_text("name: [unclosed\n")
    code, err = check(connectors, out, capsys)
    assert code == 2 and "connectors/broken.yaml" in err


def test_a_connector_shadowing_a_client_method_is_refused(
    workspace: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    connectors, out = workspace
    (connectors / "register.yaml").write_text("name: register\noperations: {}\n")
    code, err = check(connectors, out, capsys)
    assert code == 2 and "shadow" in err


def test_paging_is_inferred_from_params() -> None:
    from agentvault._connectors import CATALOG

    def paging(c: str, op: str):  # type: ignore[no-untyped-def]
        return CATALOG[c].operations[op].paging

    assert (paging("crowdstrike", "detections:read").style, paging("crowdstrike", "detections:read").offset) == ("offset", "offset")
    assert (paging("jira", "issues:read").size, paging("jira", "issues:read").offset) == ("maxResults", "startAt")
    assert paging("splunk", "search:results").size == "count"
    assert paging("wiz", "issues:read").next_path == "pageInfo.endCursor"
    assert paging("sentinelone", "agents:read").next_path_source == "threats:read"
    assert paging("okta", "users:read").next_path is None
    assert paging("okta", "groups:read") is None
