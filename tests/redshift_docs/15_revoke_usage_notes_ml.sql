-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_REVOKE-usage-notes.md
-- page: Usage notes (REVOKE) - Usage notes for revoking machine learning permissions
-- notes: only the section 'Usage notes for revoking machine learning permissions'; the page never creates customer_churn, ml_user, ml_schema or customer_data; placeholder 'your-s3-bucket' left as is

-- part: privileges
REVOKE EXECUTE ON MODEL customer_churn FROM PUBLIC;

-- part: privileges
REVOKE ALL on MODEL customer_churn FROM ml_user;

-- part: create_model
CREATE MODEL ml_schema.customer_churn
FROM customer_data
TARGET churn
FUNCTION ml_schema.customer_churn_prediction
IAM_ROLE default
SETTINGS (
 S3_BUCKET 'your-s3-bucket'
);
