"""The standing hostile-input corpus (issue 16): every input of tests/hostile/generate.py through the real
loader, one database for the lot, each with its expected outcome asserted; and the counts that matter
printed as one line: `hostile: N inputs, 0 crashes, 0 lost, 0 leaks`."""

from __future__ import annotations

import pytest

from ingestion.readers import shown
from reformwh import pipeline
from tests.conftest import SAMPLES, query
from tests.hostile.generate import LIMITS, PERSONAL, write


@pytest.fixture
def corpus(tmp_path):
    return tmp_path, write(tmp_path)


def test_every_hostile_input_gets_its_outcome(make_settings, corpus, monkeypatch, capsys):
    folder, cases = corpus
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)
    settings = make_settings(SAMPLES / "reference")
    crashes, lost, leaks, wrong = [], [], [], []
    outputs: list[str] = []
    results = {}
    for source in ("one_stop_shop", "document_management", "self_reports"):
        mine = [c for c in cases if c.source == source]
        for case in mine:
            try:
                # one file per call, as `reformwh ingest` would meet them in a batch
                [result] = pipeline.ingest(settings, source, [folder / source / case.name], progress=outputs.append)
            except Exception as exc:  # noqa: BLE001 - the point is to count them
                crashes.append(f"{case.name!r}: {type(exc).__name__}: {exc}")
                continue
            results[case.name] = result
    audits = {row[0]: row[1:] for row in query(settings, """
        select load_id, status, rows_read, rows_loaded, rows_quarantined, rows_skipped, message
        from audit.file_loads""")}
    reasons: dict[int, list[str]] = {}
    for load_id, rs in query(settings, "select load_id, reasons from quarantine.rows"):
        reasons.setdefault(load_id, []).extend(rs)
    raw_files = {r[0]: r[1:] for r in query(settings, """
        select source_file, count(*), count(distinct dossier_code) from raw.one_stop_shop__dossiers group by 1""")}
    for case in cases:
        result = results.get(case.name)
        if result is None:
            continue
        where = f"{case.source}/{case.name!r}"
        if result.status != ("rejected" if case.expect == "rejected" else "loaded"):
            wrong.append(f"{where}: {result.status} ({result.message}), expected {case.expect} '{case.text}'")
            continue
        audit = audits.get(result.load_id)
        if audit is None:
            lost.append(f"{where}: no audit row")
            continue
        if case.expect == "rejected":
            if case.text not in (result.message or "") or audit[5] != result.message:
                wrong.append(f"{where}: message {result.message!r}, expected to contain {case.text!r}")
            if case.source == "one_stop_shop" and shown(case.name) in raw_files:
                lost.append(f"{where}: rejected, yet rows of it are in raw")
            continue
        status, read, loaded, quarantined, skipped, _ = audit
        if read != loaded + quarantined:
            lost.append(f"{where}: {read} read != {loaded} loaded + {quarantined} quarantined")
        if case.source != "self_reports" and ((case.loaded is not None and loaded != case.loaded)
                                              or (case.quarantined is not None and quarantined != case.quarantined)):
            (lost if loaded + quarantined < (case.loaded or 0) + (case.quarantined or 0) else wrong).append(
                f"{where}: {loaded} loaded, {quarantined} quarantined; expected {case.loaded}, {case.quarantined}")
        if case.skipped is not None and skipped != case.skipped:
            wrong.append(f"{where}: {skipped} skipped, expected {case.skipped}")
        if case.expect == "quarantined" and not any(case.text in r for r in reasons.get(result.load_id, [])):
            wrong.append(f"{where}: no quarantine reason with {case.text!r}: {reasons.get(result.load_id)}")
        if case.distinct_keys is not None and case.source == "one_stop_shop":
            distinct = raw_files.get(shown(case.name), (0, 0))[1]
            if distinct != case.distinct_keys:
                wrong.append(f"{where}: {distinct} distinct dossier codes in raw, expected {case.distinct_keys}")
    # Nothing a person wrote reaches stdout, the audit's messages or warnings.
    texts = outputs + [a[5] or "" for a in audits.values()] + [
        w for (ws,) in query(settings, "select warnings::text from audit.file_loads") for w in [ws]]
    for text in texts:
        for value in PERSONAL.values():
            if value in text:
                leaks.append(f"{value!r} in {text[:200]!r}")
        if any(c in text for c in "\x1b\r") or "\n" in text.replace("\n          warning:", ""):
            leaks.append(f"control character in {text[:200]!r}")
    problems = crashes + lost + leaks + wrong
    with capsys.disabled():
        print(f"\nhostile: {len(cases)} inputs, {len(crashes)} crashes, {len(lost)} lost, {len(leaks)} leaks"
              + (f", {len(wrong)} wrong outcomes" if wrong else ""))
    assert not problems, "\n".join(problems)
    assert len(cases) >= 300


def test_every_format_character_is_in_the_scanned_planes():
    import unicodedata

    from ingestion.readers import FORMAT_CHARACTERS

    every = {chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) == "Cf"}
    assert every == FORMAT_CHARACTERS

