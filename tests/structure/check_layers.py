#!/usr/bin/env python3
"""The architecture, checked: which folder may include which.

Each layer may include its own headers and those of the layers listed for
it; nothing else of ours. model/ is pure (no CAF, no RocksDB, no I/O
library), only persistence/ touches RocksDB, and applications and examples
reach the runtime through the public API (include/conveyor/) and config/.
A source file over 400 lines must say at its top why it is long
("// Long file: ...").

    python3 tests/structure/check_layers.py [REPO]
    python3 tests/structure/check_layers.py --self-test
Exit 0 when clean; otherwise every violation, one per line, and exit 1.
"""
import pathlib
import re
import sys

ALLOWED = {
    "model": {"model"},
    "persistence": {"model", "persistence"},
    "tasks": {"model", "tasks", "conveyor"},
    "actors": {"model", "persistence", "actors", "conveyor"},
    "net": {"model", "actors", "net", "conveyor"},
    # The HTTP door: like net/, a door in front of the supervisor.
    "http": {"model", "actors", "http", "conveyor"},
    "config": {"model", "tasks", "config", "conveyor"},
    "include/conveyor": {"model", "conveyor"},
    "apps": {"model", "config", "conveyor", "apps"},
    # The journal benchmark measures the journal actor and its store
    # directly, below the public API.
    "apps/bench": {"model", "conveyor", "apps", "actors", "persistence"},
    "examples": {"conveyor"},
}
# Third-party headers only some layers may use.
FOREIGN = {
    "caf": {"actors", "net", "http", "include/conveyor", "apps", "apps/bench",
            "examples", "config", "tasks"},
    "rocksdb": {"persistence"},
    "boost/beast": {"http"},
    "boost/asio": {"http"},
    "prometheus": {"http"},
}
# Our top-level include prefixes ("conveyor/" is include/conveyor/).
OUR_PREFIXES = {"model", "persistence", "tasks", "actors", "net", "http",
                "config", "conveyor", "apps"}
LONG_FILE_LINES = 400
OURS = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
# A unit includes headers only: unity builds do the gluing of .cpp files
# (clang-tidy's bugprone-suspicious-include is off for that reason).
SOURCE_INCLUDE = re.compile(r'^\s*#\s*include\s+[<"][^>"]*\.(cpp|cc|cxx)[>"]')
THIRD = re.compile(
    r'^\s*#\s*include\s+[<"](caf|rocksdb|boost/beast|boost/asio|prometheus)[/.]')


def layer_of(rel: str):
    best = None
    for name in ALLOWED:
        if rel.startswith(name + "/") and (best is None or len(name) > len(best)):
            best = name
    return best


def self_test() -> int:
    """The checker must fail on each kind of violation it claims to find."""
    import tempfile
    cases = {
        "model/a.hpp": '#include "actors/env.hpp"\n',
        "persistence/b.cpp": '#include "conveyor/runtime.hpp"\n',
        "model/c.cpp": "#include <caf/all.hpp>\n",
        "actors/d.cpp": "#include <rocksdb/db.h>\n",
        "examples/e.cpp": '#include "actors/env.hpp"\n',
        "apps/f.cpp": '#include "persistence/journal.hpp"\n',
        "model/g.cpp": "int x;\n" * (LONG_FILE_LINES + 1),
        "actors/h.cpp": '#include "actors/other.cpp"\n',
    }
    failed = 0
    for rel, text in cases.items():
        with tempfile.TemporaryDirectory() as d:
            f = pathlib.Path(d, rel)
            f.parent.mkdir(parents=True)
            f.write_text(text)
            if not check(pathlib.Path(d)):
                print(f"self-test: {rel} was not reported")
                failed += 1
    with tempfile.TemporaryDirectory() as d:
        f = pathlib.Path(d, "actors/ok.cpp")
        f.parent.mkdir(parents=True)
        f.write_text('#include "model/job.hpp"\n#include "caf/all.hpp"\n')
        if check(pathlib.Path(d)):
            print("self-test: an allowed include was reported")
            failed += 1
    print("self-test ok" if not failed else f"self-test: {failed} failure(s)")
    return 1 if failed else 0


def main() -> int:
    if sys.argv[1:2] == ["--self-test"]:
        return self_test()
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layer violation(s)")
        return 1
    print("layers ok")
    return 0


def check(root: pathlib.Path):
    problems = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in {".hpp", ".cpp"}:
            continue
        rel = path.relative_to(root).as_posix()
        layer = layer_of(rel)
        if layer is None:
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for n, line in enumerate(lines, 1):
            m = OURS.match(line)
            if m:
                target = m.group(1)
                if target in OUR_PREFIXES and target not in ALLOWED[layer]:
                    problems.append(f"{rel}:{n}: {layer}/ may not include {target}/")
            if SOURCE_INCLUDE.match(line):
                problems.append(f"{rel}:{n}: includes a source file")
            m = THIRD.match(line)
            if m and layer not in FOREIGN[m.group(1)]:
                problems.append(f"{rel}:{n}: {layer}/ may not include {m.group(1)}/")
        if len(lines) > LONG_FILE_LINES and not any(
                l.startswith("// Long file:") for l in lines[:40]):
            problems.append(f"{rel}: {len(lines)} lines and no '// Long file:' "
                            "reason at its top")
    return problems


if __name__ == "__main__":
    sys.exit(main())
