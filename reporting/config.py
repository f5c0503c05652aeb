"""The report's configuration: shipped defaults (report_config.toml), a deployment's TOML file
(REFORMWH_REPORT_CONFIG) and single REFORMWH_REPORT_<KEY> environment variables, in that order."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_CONFIG_FILE = Path(__file__).with_name("report_config.toml")
ENV_FILE = "REFORMWH_REPORT_CONFIG"
ENV_PREFIX = "REFORMWH_REPORT_"


@dataclass(frozen=True)
class ReportConfig:
    parent_agency: str
    issuing_agency: str
    issuing_agency_name: str
    document_symbol: str
    document_number: str
    place: str
    signer_authority: str
    signer_title: str
    signer_name: str
    recipients: tuple[str, ...]
    min_dossiers: int
    weakest_count: int
    trend_periods: int
    chart_max_units: int
    issuer: str = "snv"
    draft_mark: str = ""
    letter_symbol: str = "SNV-CCHC"
    letter_deadline_working_days: int = 5
    targets: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    manual_sections: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        values = asdict(self)
        values["recipients"] = list(self.recipients)
        values["sources"] = list(self.sources)
        return values


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if key not in base:
            raise ValueError(f"unknown report setting {key!r} (known: {', '.join(sorted(base))})")
        merged[key] = _deep(base[key], value) if isinstance(base[key], dict) else value
    return merged


def _deep(base: dict, override: dict) -> dict:
    return {**base, **{k: _deep(base[k], v) if isinstance(base.get(k), dict) else v for k, v in override.items()}}


def load_config(config_file: Path | None = None, environ: dict[str, str] | None = None) -> ReportConfig:
    """The configuration in force: defaults, then `config_file` (or $REFORMWH_REPORT_CONFIG), then
    REFORMWH_REPORT_<KEY> variables for the scalar settings and the recipients list."""
    env = os.environ if environ is None else environ
    values = tomllib.loads(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    sources = [str(DEFAULT_CONFIG_FILE)]
    config_file = config_file or (Path(env[ENV_FILE]) if env.get(ENV_FILE) else None)
    if config_file:
        values = _merge(values, tomllib.loads(Path(config_file).read_text(encoding="utf-8")))
        sources.append(str(config_file))
    # the issuer profile (Sở Nội vụ's own report, or the draft for UBND tỉnh): its letterhead, signer and
    # recipients replace the top-level ones ("snv" is the top level itself); single variables still win
    issuers = values.pop("issuers", {})
    issuer = env.get(ENV_PREFIX + "ISSUER") or values["issuer"]
    if issuer != "snv":
        if issuer not in issuers:
            raise ValueError(f"unknown issuer {issuer!r} (known: snv, {', '.join(sorted(issuers))})")
        for key, value in issuers[issuer].items():
            if key not in values:
                raise ValueError(f"unknown report setting {key!r} in [issuers.{issuer}]")
            values[key] = value
    for key, default in list(values.items()):
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is None or isinstance(default, dict):
            continue
        if isinstance(default, list):
            values[key] = [part.strip() for part in raw.split(";") if part.strip()]
        elif isinstance(default, int):
            values[key] = int(raw)
        else:
            values[key] = raw
        sources.append(ENV_PREFIX + key.upper())
    values["recipients"] = tuple(values["recipients"])
    return ReportConfig(**values, sources=tuple(sources))
