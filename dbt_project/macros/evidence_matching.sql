{#-
    The matching rules of domain.md §5, locale-independent (the warehouse may run with the C locale,
    where lower() leaves Vietnamese capitals alone). Values are NFC already (the loader normalises).
-#}
{% macro vn_casefold(expr) -%}
    translate(
        lower({{ expr }}),
        'ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ',
        'àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ'
    )
{%- endmacro %}

{#- Document numbers: case folded, spaces removed, a leading "Số" dropped, dashes unified, leading
    zeros of the number part dropped: "Số 015 / kh–ubnd" = "15/KH-UBND". -#}
{% macro normalize_document_number(expr) -%}
    regexp_replace(
        regexp_replace(
            translate(
                regexp_replace({{ vn_casefold(expr) }}, '[[:space:]' || chr(160) || ']+', '', 'g'),
                '‐‑‒–—―−', '-------'
            ),
            '^số[:.]?', ''
        ),
        '^0+([0-9])', '\1'
    )
{%- endmacro %}

{#- File names: case folded and trimmed; the stem drops the extension (for items that give none). -#}
{% macro normalize_file_name(expr) -%}
    btrim({{ vn_casefold(expr) }})
{%- endmacro %}

{% macro file_name_stem(expr) -%}
    regexp_replace({{ expr }}, '\.[^./]*$', '')
{%- endmacro %}

{% macro has_extension(expr) -%}
    ({{ expr }} ~ '\.[^./[:space:]]+$')
{%- endmacro %}

{#- A signer is a leader when the title, without leading "KT.", "TL.", "TM.", "Q." and case, is one of
    var('leader_titles'). -#}
{% macro is_leader_title(expr) -%}
    regexp_replace(
        regexp_replace({{ vn_casefold(expr) }}, '^[[:space:]]*((kt|tl|tm|q)\.[[:space:]]*)+', ''),
        '[[:space:]]+', ' ', 'g'
    ) in (
        {%- for title in var('leader_titles') %}'{{ title }}'{{ ', ' if not loop.last }}{% endfor -%}
    )
{%- endmacro %}
