-- Province-wide, for consecutive periods of one calendar and type: what is in progress at the
-- end of P is exactly what the next period carries over (only where P has ended).
select
    p.period_key,
    p.in_progress_total,
    nxt.period_key as next_period_key,
    nxt.carried_over as next_carried_over
from {{ ref('reform_province') }} as p
inner join {{ ref('dim_period') }} as d on p.period_key = d.previous_period_key
inner join {{ ref('reform_province') }} as nxt on d.period_key = nxt.period_key
where
    p.period_end < p.data_as_of::date
    and p.in_progress_total <> nxt.carried_over
