-- The flagged (period, dossier) rows with their as-was unit (int_dossier_units_as_was): the dossier's own
-- unit if it existed during the period, else the first unit along its successor chain that did.
-- A view: int_unit_procedure_periods_counted reads it for what a build must count again, so the
-- (period x dossier) rows, many times the dossiers, are never stored.
{{ config(materialized='view') }}

{{ dossier_periods_assigned(ref('int_dossier_periods_flagged')) }}
