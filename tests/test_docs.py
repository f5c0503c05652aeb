"""`reformwh docs`: the dbt docs site and the GX Data Docs are built, and every mart and every mart column
(as the warehouse has it: dbt's catalog) is described."""

from __future__ import annotations

import copy
import json

from reformwh import cli, pipeline


def undocumented(manifest: dict, catalog: dict) -> list[str]:
    """Marts (tables in schema marts, per the catalog) and their columns without a description."""
    missing = []
    for unique_id, table in catalog["nodes"].items():
        if table["metadata"]["schema"] != "marts":
            continue
        node = manifest["nodes"][unique_id]
        if not node.get("description", "").strip():
            missing.append(node["name"])
        for column in table["columns"]:
            if not node["columns"].get(column, {}).get("description", "").strip():
                missing.append(f"{node['name']}.{column}")
    return missing


def test_docs_builds_both_sites_and_every_mart_column_is_described(sample_built, monkeypatch, capsys):
    assert pipeline.check(sample_built, progress=lambda _: None)  # so Data Docs hold a validation result
    monkeypatch.setenv("REFORMWH_DATABASE_URL", sample_built.database_url)
    monkeypatch.setenv("REFORMWH_HOME", str(sample_built.home))
    capsys.readouterr()
    assert cli.main(["docs"]) == 0
    out = capsys.readouterr().out
    dbt_docs = sample_built.home / "dbt_docs"
    data_docs = sample_built.home / "data_docs"
    assert f"dbt docs: {dbt_docs / 'static_index.html'}" in out
    assert f"Data Docs: {data_docs / 'index.html'}" in out
    # it says what it is doing while it works (minutes on a large warehouse)
    assert out.index("dbt docs generate: parsing") < out.index("dbt docs written") < out.index("Data Docs written")
    for index in (dbt_docs / "index.html", dbt_docs / "static_index.html", data_docs / "index.html"):
        assert index.stat().st_size > 10_000, index
    assert "reform_quarter" in (dbt_docs / "static_index.html").read_text(encoding="utf-8")
    assert "marts.reform_quarter" in (data_docs / "index.html").read_text(encoding="utf-8")
    assert list((data_docs / "validations").rglob("*.html")), "a validation result page"

    manifest = json.loads((dbt_docs / "manifest.json").read_text())
    catalog = json.loads((dbt_docs / "catalog.json").read_text())
    marts = {t["metadata"]["name"] for t in catalog["nodes"].values() if t["metadata"]["schema"] == "marts"}
    assert {"dim_unit", "dim_period", "fct_dossier", "reform_quarter", "reform_semester", "reform_annual",
            "reform_province", "dossier_by_field"} <= marts
    assert undocumented(manifest, catalog) == []

    # the check itself fails on a column the YAML does not describe
    quarter = next(k for k, t in catalog["nodes"].items() if t["metadata"]["name"] == "reform_quarter")
    tampered = copy.deepcopy(manifest)
    tampered["nodes"][quarter]["columns"]["on_time_rate"]["description"] = ""
    assert undocumented(tampered, catalog) == ["reform_quarter.on_time_rate"]
