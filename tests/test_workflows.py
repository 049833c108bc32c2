"""The GitHub workflows (tests, and publishing on a tag) are valid for GitHub Actions.

check-jsonschema validates them offline against the workflow schema it bundles.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def load(name: str) -> dict:
    import yaml

    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def step_run(flow: dict, job: str, name: str | None = None, step_id: str | None = None) -> str:
    for step in flow["jobs"][job]["steps"]:
        if (name and step.get("name") == name) or (step_id and step.get("id") == step_id):
            return step["run"]
    raise KeyError(name or step_id)


def run_bash(script: str, tmp_path: Path, **env: str) -> tuple[int, str]:
    import os

    output = tmp_path / "output"
    output.write_text("")
    result = subprocess.run(["bash", "-e", "-c", script], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, **env, "GITHUB_OUTPUT": str(output)})
    return result.returncode, output.read_text()


def test_every_action_is_pinned_by_commit_sha_with_its_version_in_a_comment():
    import re

    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        for line in workflow.read_text(encoding="utf-8").splitlines():
            if "uses:" in line:
                assert re.search(r"uses: [\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{workflow.name}: {line}"


def test_every_workflow_grants_least_privilege():
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        flow = load(workflow.name)
        assert flow["permissions"] == {"contents": "read"}, workflow.name
        for name, job in flow["jobs"].items():
            # Only the publishing jobs may ask for an OIDC token (to assume the AWS role).
            if job.get("permissions", {}).get("id-token") == "write":
                assert name == "publish", f"{workflow.name}: {name}"


@pytest.mark.parametrize("tag, slug", [("episode/exemple", "exemple"), ("episode/ep-2_b", "ep-2_b"),
                                       ("episode/--all", None), ("episode/../x", None), ("episode/", None),
                                       ("episode/A", None), ("episode/a b", None)])
def test_a_tag_gives_a_slug_only_by_the_slug_rule(tmp_path, tag, slug):
    code, output = run_bash(step_run(load("publish.yml"), "publish", name="The episode's slug, from the tag"),
                            tmp_path, TAG=tag)
    assert (code, output) == ((0, f"slug={slug}\n") if slug else (1, ""))


@pytest.mark.parametrize("wanted, slugs", [("ep1  ep2", ["ep1", "ep2"]), ("--all", None), ("ep1 ../x", None),
                                           ("ep1 $(id)", None)])
def test_the_back_catalogue_takes_slugs_only(tmp_path, wanted, slugs):
    import json

    code, output = run_bash(step_run(load("backcatalogue.yml"), "list", step_id="list"), tmp_path, WANTED=wanted)
    assert (code, output) == ((0, f"slugs={json.dumps(slugs)}\n") if slugs else (1, ""))


def test_slugs_reach_the_cli_after_a_double_dash_and_quoted():
    runs = [step_run(load("publish.yml"), "publish", name="Publish"),
            step_run(load("backcatalogue.yml"), "render", name="Render"),
            step_run(load("backcatalogue.yml"), "publish", name="Publish them together")]
    assert runs[0].endswith('-- "$SLUG"') and runs[1].endswith('-- "$SLUG"')
    assert 'read -ra slugs <<< "$SLUGS"' in runs[2] and runs[2].rstrip().endswith('-- "${slugs[@]}"')
    assert "$SLUGS " not in runs[2].replace('"$SLUGS"', "")


def test_the_cli_takes_slugs_after_a_double_dash(project, capsys):
    from pipeline.cli import build_parser, main

    args = build_parser().parse_args(["episode", "--until", "render", "--to", "site", "--", "ep-1"])
    assert args.slugs == ["ep-1"] and args.until == "render"
    code = main(["episode", "--show", str(project.show), "--episodes", str(project.episodes), "--work",
                 str(project.work), "--", "--all"])
    assert code == 1 and "--all: not a valid episode slug" in capsys.readouterr().err
