"""Per-package coverage gate: fail when any listed package is below the threshold on its own.

coverage's `fail_under` judges the project as a whole, so one well-tested app can hide an
untested one. `make test` runs this after pytest-cov has written its data: it prints one line per
package with its branch-inclusive percentage (covered lines + covered branches over statements +
branches, coverage's own formula) and exits 1 if any package is below the threshold or has no
measured file at all, 2 if there is no coverage data. Configuration (data file, source, omit)
comes from `[tool.coverage.*]` in pyproject.toml.

    python scripts/coverage_gate.py                      # checkout payments catalog, 90 %
    python scripts/coverage_gate.py --threshold 95 catalog
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import coverage
from coverage.exceptions import NoDataError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGES = ("checkout", "payments", "catalog")
DEFAULT_THRESHOLD = 90.0

Summary = dict[str, Any]  # one file's "summary" object in `coverage json`


@dataclass
class Totals:
    files: int = 0
    statements: int = 0
    covered_lines: int = 0
    branches: int = 0
    covered_branches: int = 0

    @property
    def percent(self) -> float:
        total = self.statements + self.branches
        if total == 0:
            return 100.0
        return 100.0 * (self.covered_lines + self.covered_branches) / total


def load_report() -> dict[str, Summary]:
    """{file path relative to the project: its coverage summary}, from the measured data."""
    cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out))
        files = json.loads(out.read_text())["files"]
    report: dict[str, Summary] = {}
    for name, entry in files.items():
        path = Path(name)
        if not path.is_absolute():
            path = ROOT / path
        report[path.resolve().relative_to(ROOT).as_posix()] = entry["summary"]
    return report


def package_totals(report: dict[str, Summary], package: str) -> Totals:
    totals = Totals()
    for path, summary in report.items():
        if path.startswith(f"{package}/"):
            totals.files += 1
            totals.statements += summary["num_statements"]
            totals.covered_lines += summary["covered_lines"]
            totals.branches += summary.get("num_branches", 0)
            totals.covered_branches += summary.get("covered_branches", 0)
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("packages", nargs="*", default=list(DEFAULT_PACKAGES), help="top-level packages")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="minimum percent")
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # data_file and source in pyproject.toml are relative to the project

    try:
        report = load_report()
    except NoDataError as error:
        print(f"coverage gate: no coverage data ({error}); run the tests with --cov first.", file=sys.stderr)
        return 2

    failed: list[str] = []
    print(f"coverage gate: branch coverage per package, threshold {args.threshold:.1f} %")
    for package in args.packages:
        totals = package_totals(report, package)
        if totals.files == 0:
            print(f"  {package + '/':<12} missing: no measured file")
            failed.append(package)
            continue
        ok = totals.percent >= args.threshold
        print(
            f"  {package + '/':<12} {totals.percent:6.2f} %  "
            f"({totals.covered_lines}/{totals.statements} lines, "
            f"{totals.covered_branches}/{totals.branches} branches, {totals.files} files)"
            f"{'' if ok else '  BELOW THRESHOLD'}"
        )
        if not ok:
            failed.append(package)
    if failed:
        print(f"coverage gate: failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
