-- One row per dossier at its newest version: a copy of int_dossiers_published, which keeps the incremental
-- state (a mart is built afresh in marts_build on every build, then published: reformwh/pipeline.py).
{{ config(indexes=[{'columns': ['dossier_code'], 'unique': true}, {'columns': ['unit_code']}]) }}

select * from {{ ref('int_dossiers_published') }}
