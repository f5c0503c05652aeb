"""The sample generator's procedure catalogue is package data (reformwh/samples/procedures.csv, read through
importlib.resources, so an installed wheel finds it), and every row is one the simulation can use."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from reformwh.samples.one_stop_shop import PROCEDURES, read_procedures

ROOT = Path(__file__).resolve().parents[1]


def test_the_procedure_catalogue_reads_whole_and_usable():
    assert resources.files("reformwh.samples").joinpath("procedures.csv").is_file()
    assert read_procedures() == PROCEDURES
    assert len(PROCEDURES) == 42
    assert len({p.code for p in PROCEDURES}) == len(PROCEDURES)
    by_code = {p.code: p for p in PROCEDURES}
    # a row with several fees, a name with a comma (quoted in the CSV), one not offered online
    assert by_code["2.000908"].fees == (0, 10_000, 20_000, 50_000)
    assert by_code["2.000908"].name == "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền cấp"
    assert by_code["2.002339"].level == ""
    assert by_code["1.005399"].days == 10 and by_code["1.005399"].weight == 24.0
    for p in PROCEDURES:
        assert p.scope in ("commune", "district") or p.scope.startswith("dept:"), p
        assert p.level in ("Toàn trình", "Một phần", ""), p
        assert p.days > 0 and p.weight > 0 and p.fees and all(fee >= 0 for fee in p.fees), p
    assert sum(p.scope == "dept:*" for p in PROCEDURES) == 1  # the fallback of a department no keyword matches


def test_the_wheel_ships_the_samples_package_with_its_data():
    """Hatchling puts every file of a listed package in the wheel, the CSV with the modules."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "reformwh" in config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert (ROOT / "reformwh" / "samples" / "procedures.csv").is_file()
