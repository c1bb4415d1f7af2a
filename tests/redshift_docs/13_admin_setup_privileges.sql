-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/admin-setup.md
-- page: Cluster and configure setup for Amazon Redshift ML administration
-- notes: IAM policy JSON blocks omitted; the page assumes schema demo_ml, groups retention_analyst_grp / marketing_analyst_grp and model demo_ml.customer_churn_auto_model exist

-- part: privileges
GRANT CREATE MODEL TO GROUP retention_analyst_grp;

-- part: privileges
GRANT CREATE, USAGE ON SCHEMA demo_ml TO GROUP retention_analyst_grp;

-- part: privileges
GRANT USAGE ON SCHEMA demo_ml TO GROUP marketing_analyst_grp;

-- part: privileges
GRANT EXECUTE ON MODEL demo_ml.customer_churn_auto_model TO GROUP marketing_analyst_grp;
