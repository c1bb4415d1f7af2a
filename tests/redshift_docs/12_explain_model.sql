-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_explain_model_function.md
-- page: EXPLAIN_MODEL function
-- notes: syntax synopsis and results omitted; the first two statements are identical on the page (shown once while training, once when ready); page comment lines in the last example dropped; refers to customer_churn_auto_model of 01_customer_churn.sql and to test_schema.test_model_name, which the page never creates

-- part: prediction
select explain_model('customer_churn_auto_model');

-- part: prediction
select explain_model('customer_churn_auto_model');

-- part: prediction
select json_table.report.explanations.kernel_shap.label0.global_shap_values from (select explain_model('customer_churn_auto_model') as report) as json_table;

-- part: prediction
select json_table.report.explanations.kernel_shap.label0.global_shap_values.x0 from (select explain_model('customer_churn_auto_model') as report) as json_table;

-- part: table_prep
SHOW search_path;

-- part: prediction
SELECT explain_model('test_schema.test_model_name');
