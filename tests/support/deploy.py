"""What the deployment files say, read as their tools read them: the Dockerfile's stages and instructions, which
paths .dockerignore keeps out of the build context, and whether a `pdr` command line is one the CLI accepts."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings
from typer.testing import CliRunner

from catalog.cli import app as pdr_cli
from catalog.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
# Settings that are secret wherever pdr runs: never written into an image, a compose file or a manifest.
SECRET_SETTINGS = frozenset(
    {"PDR_SECRET_KEY", "PDR_KEY_PASSPHRASE", "PDR_S3_ACCESS_KEY", "PDR_S3_SECRET_KEY", "PGPASSWORD"}
)


@dataclass
class Instruction:
    """One Dockerfile instruction: its keyword (upper case), its flags (--from=...) and the rest of the line."""

    keyword: str
    flags: dict[str, str]
    arguments: str

    def exec_form(self) -> list[str]:
        """The arguments in exec (JSON array) form; fails when they are in shell form."""
        parsed = json.loads(self.arguments)
        assert isinstance(parsed, list) and all(isinstance(part, str) for part in parsed), self.arguments
        return parsed


@dataclass
class Stage:
    """A build stage: its base image, its name, and its instructions after FROM."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """The stage's instructions of one kind."""
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]


def _logical_lines(text: str) -> Iterable[str]:
    """Instructions joined across backslash continuations, without comments and blank lines."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"


def _instruction(line: str) -> Instruction:
    keyword, _, rest = line.partition(" ")
    flags: dict[str, str] = {}
    rest = rest.strip()
    while match := re.match(r"--([a-z-]+)=(\S+)\s+", rest):
        flags[match.group(1)] = match.group(2)
        rest = rest[match.end() :]
    return Instruction(keyword=keyword.upper(), flags=flags, arguments=rest)


def dockerfile_stages(text: str | None = None) -> list[Stage]:
    """The stages of deploy/Dockerfile (or of `text`), in order."""
    stages: list[Stage] = []
    for line in _logical_lines(DOCKERFILE.read_text() if text is None else text):
        instruction = _instruction(line)
        if instruction.keyword == "FROM":
            words = instruction.arguments.split()
            named = len(words) == 3 and words[1].upper() == "AS"
            assert len(words) == 1 or named, f"unexpected FROM line: {line}"
            stages.append(Stage(base=words[0], name=words[2] if named else None))
        else:
            assert stages or instruction.keyword == "ARG", f"{instruction.keyword} before the first FROM"
            if stages:
                stages[-1].instructions.append(instruction)
    return stages


def shell_words(instruction: Instruction) -> list[str]:
    """The words of a shell-form instruction (RUN), split as the shell would split them, separators included."""
    return shlex.split(instruction.arguments.replace("&&", " && ").replace(";", " ; "))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path pattern as .dockerignore and setuptools' package-data read it (`*` within a folder, `**` across)."""
    out, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out, index = out + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            out, index = out + ".*", index + 2
        elif pattern[index] == "*":
            out, index = out + "[^/]*", index + 1
        elif pattern[index] == "?":
            out, index = out + "[^/]", index + 1
        elif pattern[index] == "[" and (end := pattern.find("]", index)) > index:
            # Go's classes read like a regular expression's, negation `[^...]` included.
            out, index = out + pattern[index : end + 1], end + 1
        else:
            out, index = out + re.escape(pattern[index]), index + 1
    return re.compile(out)


def dockerignore_rules(text: str | None = None) -> list[tuple[bool, re.Pattern[str]]]:
    """The rules of .dockerignore in order: (whether it lets a path back in, the pattern)."""
    rules = []
    for raw in (DOCKERIGNORE.read_text() if text is None else text).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
        rules.append((keep, glob_regex(pattern)))
    return rules


def sent_to_builder(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether the build context holds `path` (relative, with /): the last rule matching it or a parent decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    sent = True
    for keep, pattern in rules:
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            sent = keep
    return sent


def pdr_accepts(arguments: list[str]) -> None:
    """Fail unless `pdr ARGUMENTS` names a command and options the CLI has (asked with --help, so nothing runs)."""
    result = CliRunner().invoke(pdr_cli, [*arguments, "--help"])
    assert result.exit_code == 0, f"pdr {shlex.join(arguments)}: {result.output}"


@cache
def setting_names() -> frozenset[str]:
    """Every PDR_* variable the service reads: the fields of the settings and of each package's settings class."""
    names = set()
    for name, info in Settings.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            names.update(f"PDR_{inner.upper()}" for inner in nested.model_fields)
        else:
            names.add(f"PDR_{name.upper()}")
    return frozenset(names)


def settings_from(environment: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a process gets from exactly these variables (none of the test run's own PDR_* ones)."""
    for name in list(os.environ):
        if name.startswith("PDR_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings()
