-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_create_model_use_cases.md
-- page: Use cases (CREATE MODEL)
-- notes: syntax synopses left out; also left out: the PREPROCESSORS sample command (written with syntax alternatives IAM_ROLE { default | ... } and '...', no ';') and the K-means query 'select customer_id, customers_cluster(...) from customers;' (literal '...' argument list); the page never creates table customers; DROP MODEL abalone_xgboost_multi_predict_age has no IF EXISTS on the page; BYOM (FROM 'job') and SAGEMAKER statements marked unsupported; placeholders 'your-bucket' / 'bucket' left as is

-- part: table_prep
DROP TABLE IF EXISTS abalone_xgb;

-- part: table_prep
CREATE TABLE abalone_xgb (
length_val float,
diameter float,
height float,
whole_weight float,
shucked_weight float,
viscera_weight float,
shell_weight float,
rings int,
record_number int);

-- part: table_prep
COPY abalone_xgb
FROM 's3://redshift-downloads/redshift-ml/abalone_xg/'
REGION 'us-east-1'
IAM_ROLE default
IGNOREHEADER 1 CSV;

-- part: show_drop
DROP MODEL abalone_xgboost_multi_predict_age;

-- part: create_model
CREATE MODEL abalone_xgboost_multi_predict_age
 FROM ( SELECT length_val,
               diameter,
               height,
               whole_weight,
               shucked_weight,
               viscera_weight,
               shell_weight,
               rings
FROM abalone_xgb WHERE record_number < 2500 )
 TARGET rings FUNCTION ml_fn_abalone_xgboost_multi_predict_age
 IAM_ROLE default
 AUTO OFF
 MODEL_TYPE XGBOOST
 OBJECTIVE 'multi:softmax'
 PREPROCESSORS 'none'
 HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '100', NUM_CLASS '30')
 SETTINGS (S3_BUCKET 'your-bucket');

-- part: prediction
select ml_fn_abalone_xgboost_multi_predict_age(length_val,
                                                   diameter,
                                                   height,
                                                   whole_weight,
                                                   shucked_weight,
                                                   viscera_weight,
                                                   shell_weight)+1.5 as age
from abalone_xgb where record_number > 2500;

-- part: create_model
-- expect: unsupported
CREATE MODEL customer_churn
FROM 'training-job-customer-churn-v4'
FUNCTION customer_churn_predict (varchar, int, float, float)
RETURNS int
IAM_ROLE default
SETTINGS (S3_BUCKET 'your-bucket');

-- part: create_model
-- expect: unsupported
CREATE MODEL remote_customer_churn
FUNCTION remote_fn_customer_churn_predict (varchar, int, float, float)
RETURNS int
SAGEMAKER 'customer-churn-endpoint'
IAM_ROLE default;

-- part: create_model
CREATE MODEL customers_clusters
FROM customers
FUNCTION customers_cluster
IAM_ROLE default
AUTO OFF
MODEL_TYPE KMEANS
PREPROCESSORS '[
{
  "ColumnSet": [ "*" ],
  "Transformers": [ "NumericPassthrough" ]
}
]'
HYPERPARAMETERS DEFAULT EXCEPT ( K '5' )
SETTINGS (S3_BUCKET 'bucket');
