-- One row per (period, counted dossier) that has any figure in the period, with its flags.
-- A view: int_unit_procedure_periods_counted reads it for the periods a build must count again, so the
-- (period x dossier) rows, many times the dossiers, are never stored.
{{ config(materialized='view') }}

{{ dossier_periods_flagged(ref('int_dossiers_classified')) }}
