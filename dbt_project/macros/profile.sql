{#- The lead's profile (R1, R4, R6): folding of what reps type, tags, the plan's own goal. -#}

{# NFKC's width folding, for what reps type: full-width ASCII (U+FF01..U+FF5E) and the
   ideographic space become their ASCII forms, so ＶＩＰ and VIP, ；and ; are one. translate()
   means the same on DuckDB and PostgreSQL. #}
{% macro fold_width(expr) -%}
    translate({{ expr }}, '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ')
{%- endmacro %}

{# A tag as compared and filtered on: width-folded, case-folded, trimmed (R4). #}
{% macro normalised_tag(expr) -%}
    nullif(lower({{ trim_spaces(fold_width(expr)) }}), '')
{%- endmacro %}

{# The separators people put between tags, after width folding (，；｜ are , ; | by then):
   , ; / | 、 and line breaks. Spaces are not separators: "key account" is one tag. #}
{% macro tag_separators() -%}
    '[,;/|、\n\r\t]+'
{%- endmacro %}

{# The goal a follow-up plan states itself (R6), decided in docs/profile.md: the text after
   "目标" / "goal" / "objective" and a colon, up to the next ; or line break; NULL when the plan
   names none. Case-insensitive; width-folded first, so 目标： and 目标: are one. #}
{% macro plan_goal(expr) -%}
    {{- return(adapter.dispatch('plan_goal')(expr)) -}}
{%- endmacro %}

{% macro default__plan_goal(expr) -%}
    nullif({{ trim_spaces("regexp_extract(" ~ fold_width(expr) ~ ", '(?i)(?:目标|goal|objective)\\s*:\\s*([^;\\n]+)', 1)") }}, '')
{%- endmacro %}

{% macro postgres__plan_goal(expr) -%}
    nullif({{ trim_spaces("substring(" ~ fold_width(expr) ~ " from '(?i)(?:目标|goal|objective)\\s*:\\s*([^;\\n]+)')") }}, '')
{%- endmacro %}

{# R7: feedback as compared for specificity: width-folded, case-folded, with spaces, line breaks
   and punctuation removed (ASCII, and CJK 。、…“”‘’《》【】「」 after folding), so "客户有兴趣。"
   and "Customer  interested!" match their seed phrase. The same characters as
   expectations/specificity.py STRIPPED (tests/test_specificity.py checks both agree). #}
{% macro specificity_text(expr) -%}
    nullif(translate(lower({{ fold_width(expr) }}), {{ specificity_stripped() }}, ''), '')
{%- endmacro %}

{% macro specificity_stripped() -%}
    ' ' || chr(9) || chr(10) || chr(13) || '.,!?;:~''"()[]{}<>*_-+=/\|#@&^`…。、“”‘’《》【】「」·'
{%- endmacro %}
