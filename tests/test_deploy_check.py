"""``manage.py check --deploy`` is clean under production settings (read from the environment)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def run_check(tmp_path, **env_overrides) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CS_"))}
    env.update({"CS_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}, **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env() -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),  # 50+ random characters
        "DJANGO_ALLOWED_HOSTS": "cs.example.com",
    }


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run_check(tmp_path, **production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output and "ERROR" not in output, output


def test_check_deploy_does_catch_an_unsafe_setup(tmp_path):
    """The same command does complain about the local defaults, so the clean run above means something."""
    result = run_check(tmp_path, DJANGO_DEBUG="true")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "security.W018" in output  # DEBUG on
    assert "security.W009" in output  # the insecure default secret key
