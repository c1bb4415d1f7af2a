-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_SVV_ML_MODEL_PRIVILEGES.md
-- page: SVV_ML_MODEL_PRIVILEGES
-- notes: sample query only; result rows omitted; the page never creates test_model

-- part: show_drop
SELECT namespace_name,model_name,model_version,privilege_type,identity_name,identity_type,admin_option FROM svv_ml_model_privileges
WHERE model_name = 'test_model';
