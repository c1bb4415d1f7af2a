-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_DROP_MODEL.md
-- page: DROP MODEL
-- notes: the page writes the example without ';' (added); the page never creates demo_ml.customer_churn

-- part: show_drop
DROP MODEL demo_ml.customer_churn;
