"""What a path is, for detectors: a test file, a test-runner configuration, a lockfile, source.

Matching is on the path's POSIX spelling only (no file-system access), so it is the same online and
offline and costs a few string operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from .._lazyre import lazy_compile

_TEST_NAME = lazy_compile(
    r"(?:^test_.*\.py|.*_test\.py|^tests?\.py|.*_test\.go|.*\.(?:test|spec)\.[cm]?[jt]sx?|.*_spec\.rb"
    r"|.*Tests?\.(?:java|kt|cs|swift)|^test_.*\.(?:rb|sh)|.*_tests?\.rs|^conftest\.py)$"
)
_TEST_DIRS: Final = frozenset({"tests", "test", "__tests__", "spec", "specs", "testing"})
TEST_CONFIGS: Final = frozenset(
    {
        "pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "conftest.py", ".coveragerc", "noxfile.py",
        "package.json", "jest.config.js", "jest.config.ts", "jest.config.cjs", "jest.config.mjs",
        "vitest.config.ts", "vitest.config.js", "karma.conf.js", ".mocharc.json", ".mocharc.yml",
        "cargo.toml", "makefile", "codecov.yml", ".codecov.yml",
    }
)  # fmt: skip
LOCKFILES: Final = frozenset(
    {
        "requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "requirements.in",
        "constraints.txt",
        "pyproject.toml", "poetry.lock", "uv.lock", "pipfile", "pipfile.lock", "setup.cfg", "setup.py",
        "pdm.lock", "environment.yml", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
        "cargo.toml", "cargo.lock", "go.mod", "go.sum", "gemfile", "gemfile.lock",
    }
)  # fmt: skip
_GUARD = lazy_compile(
    r"(?:^|/)(?:agentguard_policy\.py|agentguard\.toml|\.agentguard(?:/|$)|\.claude/settings[^/]*\.json$"
    r"|\.claude/hooks(?:/|$)|\.codex/config\.toml$|\.cursor/rules|\.github/copilot-instructions)"
)
_SOURCE_EXT: Final = frozenset(
    {"py", "js", "ts", "jsx", "tsx", "mjs", "cjs", "go", "rs", "java", "kt", "rb", "c", "h", "cc", "cpp",
     "cs", "swift", "php"}
)  # fmt: skip


def basename(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def is_test_file(path: str) -> bool:
    p = path.replace("\\", "/")
    name = p.rsplit("/", 1)[-1]
    if _TEST_NAME.match(name):
        return True
    parts = p.split("/")[:-1]
    return any(part in _TEST_DIRS for part in parts) and ext(name) in _SOURCE_EXT


def is_test_config(path: str) -> bool:
    return basename(path).lower() in TEST_CONFIGS


def is_lockfile(path: str) -> bool:
    name = basename(path).lower()
    return name in LOCKFILES or (name.startswith("requirements") and name.endswith((".txt", ".in")))


def is_guard_file(path: str) -> bool:
    """The guard's own policy or configuration, or an agent harness's hooks and settings."""
    return bool(_GUARD.search(path.replace("\\", "/")))


def ext(path: str) -> str:
    name = basename(path)
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def is_source(path: str) -> bool:
    return ext(path) in _SOURCE_EXT


def is_python(path: str) -> bool:
    return ext(path) == "py"


@dataclass(frozen=True, slots=True)
class PathInfo:
    test: bool
    test_config: bool
    lockfile: bool
    guard: bool
    python: bool
    source: bool

    @property
    def special(self) -> bool:
        """A test, test configuration, lockfile or guard file."""
        return self.test or self.test_config or self.lockfile or self.guard


@lru_cache(maxsize=4096)
def classify(path: str) -> PathInfo:
    """Everything above about ``path``, computed once per distinct path."""
    return PathInfo(
        test=is_test_file(path),
        test_config=is_test_config(path),
        lockfile=is_lockfile(path),
        guard=is_guard_file(path),
        python=is_python(path),
        source=is_source(path),
    )
