"""environment.yml and pyproject.toml must list the same Python dependencies and lower bounds."""
from pathlib import Path
import tomllib

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {r.replace(" ", "") for r in reqs}


def _environment_requirements() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {r.replace(" ", "") for r in pip if not r.startswith("-e")}


def test_same_requirements_in_both_files():
    assert _pyproject_requirements() == _environment_requirements()


def test_every_requirement_has_a_lower_bound():
    for req in _pyproject_requirements():
        assert ">=" in req, f"{req} has no pinned lower bound"
