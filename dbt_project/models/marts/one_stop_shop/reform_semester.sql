-- As-was half figures: see macros/reform_marts.sql (shared by all period marts).
{{ reform_period_mart('half') }}
