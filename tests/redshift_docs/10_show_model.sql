-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_SHOW_MODEL.md
-- page: SHOW MODEL
-- notes: syntax synopsis and result tables omitted; the pg_proc query keeps the placeholder '%<function_name>%'; the page never creates customer_churn

-- part: show_drop
SELECT * FROM pg_proc WHERE proname ILIKE '%<function_name>%';

-- part: show_drop
SHOW MODEL ALL;

-- part: show_drop
SHOW MODEL customer_churn;
