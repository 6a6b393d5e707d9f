"""bin/check-architecture: it finds what it is meant to find, and the real tree passes."""

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
SCRIPT = REPOSITORY / "bin" / "check-architecture"


def check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_clean_tree_passes(tmp_path):
    write(
        tmp_path,
        {
            "m3terdata/__init__.py": "",
            "m3terdata/models.py": "import datetime\n",
            "runs/__init__.py": "",
            "runs/services.py": "from m3terdata import models\n",
        },
    )
    result = check(tmp_path)
    assert result.returncode == 0, result.stdout


def test_a_cycle_through_a_function_level_import_is_printed(tmp_path):
    write(
        tmp_path,
        {
            "runs/__init__.py": "",
            "runs/services.py": "from runs.tasks import enqueue\n",
            "runs/tasks.py": "def task():\n    from runs import services\n",
        },
    )
    result = check(tmp_path)
    assert result.returncode == 1
    assert "cycle: runs.services → runs.tasks → runs.services" in result.stdout


def test_a_package_init_re_exporting_its_modules_is_no_cycle(tmp_path):
    write(
        tmp_path,
        {
            "runs/__init__.py": "",
            "runs/services/__init__.py": "from runs.services.create import run_create\n",
            "runs/services/create.py": "from runs.services.state import run_transition\n",
            "runs/services/state.py": "def run_transition():\n    pass\n",
        },
    )
    result = check(tmp_path)
    assert result.returncode == 0, result.stdout


def test_the_mirror_importing_another_app_fails_even_inside_a_function(tmp_path):
    write(
        tmp_path,
        {
            "m3terdata/__init__.py": "",
            "m3terdata/services.py": "def bill_event():\n    from runs.services import x\n",
            "runs/__init__.py": "",
            "runs/services.py": "",
        },
    )
    result = check(tmp_path)
    assert result.returncode == 1
    assert "leaf: m3terdata/services.py: m3terdata.services imports runs.services.x" in (
        result.stdout
    )


def test_product_code_importing_a_stand_in_fails(tmp_path):
    write(
        tmp_path,
        {
            "paddle_destination/__init__.py": "",
            "paddle_destination/client.py": "from standins.paddle import PaddleStandin\n",
            "paddle_destination/tests/test_client.py": "from standins.paddle import sdk\n",
            "standins/__init__.py": "",
            "standins/paddle/__init__.py": "from paddle_destination import client\n",
        },
    )
    result = check(tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "stand-in: paddle_destination/client.py: paddle_destination.client imports "
        "standins.paddle.PaddleStandin (product code never imports the stand-ins)"
    ]


def test_the_repository_passes():
    result = check(REPOSITORY)
    assert result.returncode == 0, result.stdout
