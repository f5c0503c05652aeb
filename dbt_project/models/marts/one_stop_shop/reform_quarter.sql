-- As-was quarter figures: see macros/reform_marts.sql (shared by all period marts).
{{ reform_period_mart('quarter') }}
