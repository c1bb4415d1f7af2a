-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_STV_ML_MODEL_INFO.md
-- page: STV_ML_MODEL_INFO
-- notes: sample query only; result rows omitted

-- part: show_drop
SELECT schema_name, model_name, model_state
FROM stv_ml_model_info;
