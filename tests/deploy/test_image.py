"""deploy/Dockerfile and .dockerignore, read as Docker reads them (containers cannot run here): a multi-stage build
whose final stage is a pinned slim Python 3.11 with no compiler, running `pdr` as a numeric non-root user with a
health check and no secret; a build context without tests, .git or var/; and a service that, run as the image runs
it, writes nowhere but /tmp and the places its settings name, so a read-only root file system holds."""

from __future__ import annotations

import re
import tomllib
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest

from tests.support.deploy import (
    ROOT,
    SECRET_SETTINGS,
    Stage,
    dockerfile_stages,
    dockerignore_rules,
    glob_regex,
    pdr_accepts,
    sent_to_builder,
    setting_names,
    shell_words,
)
from tests.support.pdr_process import pdr_env, run_pdr, serving_pdr

# A slim Debian image of CPython 3.11 at a fixed patch release (never `latest`, `3`, `3.11` or `slim` alone).
PINNED_SLIM_PYTHON = re.compile(r"python:3\.11\.\d+-slim(?:-[a-z]+)?")
COMPILERS = ("build-essential", "gcc", "g++", "clang", "cc", "make", "cpp")
PACKAGES = ("storage", "auth", "registry", "catalog")


def _final() -> Stage:
    return dockerfile_stages()[-1]


def _installed_packages(stage: Stage) -> set[str]:
    """Every package an apt-get or apk install of the stage names."""
    installed: set[str] = set()
    for run in stage.all("RUN"):
        words = shell_words(run)
        for start, word in enumerate(words):
            if word in ("apt-get", "apt", "apk") and {"install", "add"} & set(words[start + 1 : start + 3]):
                following = words[start + 2 :]
                end = next((n for n, w in enumerate(following) if w in ("&&", ";", "||")), len(following))
                installed.update(w for w in following[:end] if not w.startswith("-"))
    return installed


def test_the_image_is_built_in_stages_and_runs_on_a_pinned_slim_python_3_11() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2
    assert all(PINNED_SLIM_PYTHON.fullmatch(stage.base) for stage in stages), [stage.base for stage in stages]
    # The final stage takes only what an earlier one built, and no source tree.
    earlier = {stage.name for stage in stages[:-1]}
    copies = _final().all("COPY") + _final().all("ADD")
    assert copies and all(copy.flags.get("from") in earlier for copy in copies)


def test_the_final_stage_has_no_compiler_and_the_build_stage_may() -> None:
    assert not _installed_packages(_final()) & set(COMPILERS)
    # The check reads what it should: the build stage's compiler is seen.
    assert "build-essential" in _installed_packages(dockerfile_stages()[0])


def test_the_check_of_installed_packages_sees_a_compiler_in_a_final_stage() -> None:
    text = (
        "FROM python:3.11.14-slim AS runtime\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends gcc"
    )
    assert "gcc" in _installed_packages(dockerfile_stages(text)[-1])


def test_the_service_runs_as_a_numeric_non_root_user() -> None:
    users = _final().all("USER")
    assert users, "the final stage sets no USER"
    user, _, group = users[-1].arguments.partition(":")
    assert user.isdigit() and int(user) > 0, users[-1].arguments
    assert not group or (group.isdigit() and int(group) > 0)


def test_the_entrypoint_runs_pdr_serve_on_the_exposed_port_and_the_health_check_asks_it() -> None:
    final = _final()
    entrypoint, command = final.all("ENTRYPOINT")[-1].exec_form(), final.all("CMD")[-1].exec_form()
    assert entrypoint == ["pdr"]
    pdr_accepts(command)
    # Every interface of the container, or nothing outside it could connect.
    assert command[0] == "serve" and ip_address(command[command.index("--host") + 1]).is_unspecified
    port = command[command.index("--port") + 1]
    assert [expose.arguments for expose in final.all("EXPOSE")] == [port]
    healthcheck = final.all("HEALTHCHECK")[-1].arguments
    assert healthcheck.startswith("CMD ") and f"http://127.0.0.1:{port}/healthz" in healthcheck


def test_no_setting_is_baked_into_the_image_but_the_log_format() -> None:
    for stage in dockerfile_stages():
        for instruction in stage.all("ENV") + stage.all("ARG"):
            names = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", instruction.arguments))
            assert not names & SECRET_SETTINGS, instruction.arguments
            assert not {name for name in names if name.startswith("PDR_")} - {"PDR_LOG_FORMAT"}
    assert "PDR_LOG_FORMAT" in setting_names()


def test_the_build_context_keeps_out_tests_git_var_and_caches_and_holds_what_the_image_copies() -> None:
    rules = dockerignore_rules()
    for path in ("tests/deploy/test_image.py", ".git/config", "var/pdr.db", ".venv/bin/python", "bench/README.md"):
        assert not sent_to_builder(path, rules), path
    assert not sent_to_builder("catalog/__pycache__/app.cpython-311.pyc", rules)
    assert not sent_to_builder("storage/db.pyc", rules)
    for copy in dockerfile_stages()[0].all("COPY"):
        for source in copy.arguments.split()[:-1]:
            assert sent_to_builder(source, rules), f"COPY {source} finds nothing: .dockerignore keeps it out"
            assert (ROOT / source).exists(), source
    assert sent_to_builder("catalog/app.py", rules)


def test_the_dockerignore_reading_follows_docker_on_exceptions_and_folders() -> None:
    rules = dockerignore_rules("*\n!keep\nkeep/**/secret*\n")
    assert sent_to_builder("keep/a.py", rules) and sent_to_builder("keep", rules)
    assert not sent_to_builder("keep/x/secret.txt", rules) and not sent_to_builder("keep/secret", rules)
    assert not sent_to_builder("other/keep", rules)


def _packaged(path: Path, package_data: dict[str, list[str]]) -> bool:
    """Whether a package-data entry (keyed by package, patterns relative to its folder) names the file."""
    for package, patterns in package_data.items():
        folder = ROOT / package.replace(".", "/")
        if folder in path.parents:
            relative = path.relative_to(folder).as_posix()
            if any(glob_regex(pattern).fullmatch(relative) for pattern in patterns):
                return True
    return False


def test_the_installed_packages_carry_every_file_the_service_reads() -> None:
    """The image installs the project (not in editable mode): a file that package-data leaves out is not there."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data: dict[str, list[str]] = pyproject["tool"]["setuptools"].get("package-data", {})
    data_files = [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*"))
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert data_files, "the migrations' template at least is package data"
    missing = [path.relative_to(ROOT).as_posix() for path in data_files if not _packaged(path, package_data)]
    assert not missing, f"not in [tool.setuptools.package-data], so the image would lack them: {missing}"

    # `*` stays within a folder, as in setuptools' globs.
    templates = ROOT / "catalog" / "portal" / "templates"
    assert _packaged(templates / "page.html", {"catalog.portal": ["templates/*.html"]})
    assert not _packaged(templates / "deeper" / "page.html", {"catalog.portal": ["templates/*.html"]})


@pytest.fixture
def bare_home(tmp_path: Path) -> dict[str, Path]:
    """Empty folders for what a read-only image offers: a working directory and a home nobody may write."""
    folders = {name: tmp_path / name for name in ("workdir", "home", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    return folders


def test_the_service_writes_nowhere_but_tmp_and_its_settings_places(
    database_url: str, tmp_path: Path, bare_home: dict[str, Path]
) -> None:
    """What a read-only root needs: start, search (word segmentation's cache), pages; cwd and HOME stay empty."""
    env = pdr_env(
        database_url,
        tmp_path,
        HOME=str(bare_home["home"]),
        TMPDIR=str(bare_home["tmp"]),
        PYTHONDONTWRITEBYTECODE="1",
        PDR_SEARCH_WARM_UP="true",
        PDR_LOG_FORMAT="json",
    )
    initialised = run_pdr(env, "init", cwd=bare_home["workdir"])
    assert initialised.returncode == 0, initialised.stderr
    with serving_pdr(env, "--workers", "2", cwd=bare_home["workdir"]) as served:
        assert httpx.get(f"{served.url}/readyz", timeout=30).status_code == 200
        for query in ("公共数据", "traffic"):
            found = httpx.get(f"{served.url}/api/v1/datasets", params={"q": query}, timeout=60)
            assert found.status_code == 200, found.text
        assert httpx.get(f"{served.url}/openapi.json", timeout=30).status_code == 200
    # The one file there is this test's own capture of the server's stderr.
    assert list(bare_home["workdir"].iterdir()) == [served.log_path]
    assert list(bare_home["home"].iterdir()) == []
