with source as (
    select * from {{ source('reference', 'holidays') }}
)

select
    date as holiday_date,
    name as holiday_name
from source
