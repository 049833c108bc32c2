"""The GitHub workflows (tests, and publishing on a tag) are valid for GitHub Actions.

check-jsonschema validates them offline against the workflow schema it bundles.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def validate(*workflows: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         *map(str, workflows)],
        capture_output=True, text=True,
    )


def test_the_workflows_are_valid():
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert {w.name for w in workflows} >= {"ci.yml", "publish.yml", "backcatalogue.yml"}
    result = validate(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_refuses_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    # An unquoted ": " inside a run line: YAML reads a mapping there and GitHub rejects the file.
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n"
                      "      - run: echo \"no data: skipping\"\n", encoding="utf-8")
    result = validate(broken)
    assert result.returncode != 0
    assert "broken.yml" in result.stdout + result.stderr


def test_the_back_catalogue_fans_out_one_render_per_episode_then_publishes_once():
    import yaml

    flow = yaml.safe_load((WORKFLOWS / "backcatalogue.yml").read_text(encoding="utf-8"))
    jobs = flow["jobs"]
    assert jobs["render"]["strategy"]["matrix"]["slug"] == "${{ fromJSON(needs.list.outputs.slugs) }}"
    render_runs = [step.get("run", "") for step in jobs["render"]["steps"]]
    assert any("--until render" in run for run in render_runs)
    assert jobs["publish"]["needs"] == ["list", "render"]
    uploads = [s for s in jobs["render"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["include-hidden-files"] is True
