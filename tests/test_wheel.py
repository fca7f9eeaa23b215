"""The built sdist and wheel are complete: a wheel installed outside the source tree runs.

``python -m build`` builds the sdist, then the wheel from that sdist (so the sdist alone is enough); both must carry
the top-level schemas/ and templates/. The wheel is then installed with its dependencies into a fresh venv under
tmp_path (no system site-packages, no PYTHONPATH), and ``new``, ``validate`` and ``plan`` run from there.
"""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import mlopsctl

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# Every file of the two top-level data folders, as "schemas/project.schema.json", "templates/docker/...".
DATA = sorted(
    path.relative_to(ROOT).as_posix()
    for folder in ("schemas", "templates")
    for path in (ROOT / folder).rglob("*")
    if path.is_file() and "__pycache__" not in path.parts
)


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from this checkout (no isolation: the test extra brings hatchling)."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT], out, dict(os.environ), 900)
    return out


def test_sdist_and_wheel_carry_schemas_and_templates(dist: Path) -> None:
    assert DATA and "schemas/project.schema.json" in DATA and "templates/workflows/plan.yml.j2" in DATA
    (sdist,) = dist.glob(f"mlopsctl-{mlopsctl.__version__}.tar.gz")
    (wheel,) = dist.glob(f"mlopsctl-{mlopsctl.__version__}-py3-none-any.whl")
    with tarfile.open(sdist) as tar:
        in_sdist = {name.partition("/")[2] for name in tar.getnames()}
    with zipfile.ZipFile(wheel) as zf:
        in_wheel = set(zf.namelist())
    assert {"pyproject.toml", "README.md", "mlopsctl/__init__.py"} <= in_sdist
    assert [p for p in DATA if p not in in_sdist] == []
    assert "mlopsctl/cli.py" in in_wheel
    assert [p for p in DATA if f"mlopsctl/_data/{p}" not in in_wheel] == []
    # The data lives inside the package only: nothing else lands at the top of site-packages.
    assert {name.split("/")[0] for name in in_wheel} == {"mlopsctl", f"mlopsctl-{mlopsctl.__version__}.dist-info"}


def test_installed_wheel_runs_new_validate_plan(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    # The tests run with an empty HOME; let pip reuse the user's download cache all the same.
    env.setdefault("PIP_CACHE_DIR", str(Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "pip"))
    (wheel,) = dist.glob("mlopsctl-*.whl")

    _run([sys.executable, "-m", "venv", venv], tmp_path, env, 300)
    _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel], tmp_path, env, 1500)

    # The mlopsctl that runs is the wheel's, in the venv, with its data beside it.
    show = "import mlopsctl; print(mlopsctl.__file__)"
    package = Path(_run([bin_dir / "python", "-c", show], tmp_path, env, 120).stdout.strip()).resolve().parent
    assert package.is_relative_to(venv.resolve() / "lib") and not package.is_relative_to(ROOT), package
    assert (package / "_data/schemas/project.schema.json").is_file()
    assert (package / "_data/templates/workflows/plan.yml.j2").is_file()

    made = _run([bin_dir / "mlopsctl", "new", "demo"], tmp_path, env, 300)
    assert "Created classifier repository demo (project demo, model iris)" in made.stdout
    demo = tmp_path / "demo"
    assert "mlopsctl plan" in (demo / "README.md").read_text()

    env["XDG_CACHE_HOME"] = str(tmp_path / "user-cache")  # a fresh machine's
    checked = _run([bin_dir / "mlopsctl", "-C", demo, "validate"], tmp_path, env, 300)
    assert checked.stdout.strip() == "OK: 1 project, 1 model"
    # The specs were checked by the checkers the wheel ships (made from its own schemas): none generated.
    assert (package / "specs/checkers/model.py").is_file()
    assert (package / "files/compiled/workflows_plan_yml_j2.py").is_file()  # the templates compiled ahead of time
    assert not (tmp_path / "user-cache" / "mlopsctl" / "checkers").exists()

    planned = _run([bin_dir / "mlopsctl", "-C", demo, "plan"], tmp_path, env, 600).stdout
    assert "new file rendered from templates/workflows/plan.yml.j2" in planned
    assert "new file rendered from templates/docker/Dockerfile.j2" in planned
    assert "+ model.iris" in planned
    assert re.search(r"^Plan: \d+ to add, 0 to change, 0 to destroy\.$", planned, re.MULTILINE), planned
