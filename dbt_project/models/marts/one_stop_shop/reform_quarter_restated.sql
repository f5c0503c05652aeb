-- Restated quarter figures by current unit: see macros/reform_marts.sql.
{{ reform_period_mart_restated('quarter') }}
