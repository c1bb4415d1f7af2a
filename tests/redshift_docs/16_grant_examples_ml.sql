-- source: github:awsdocs/amazon-redshift-developer-guide @ 7fb360453b8cb6536a84b7d69cb2451577087165 : doc_source/r_GRANT-examples.md
-- page: GRANT examples - Examples of granting the ASSUMEROLE privilege
-- notes: only the ML-related examples: the one-time 'revoke assumerole ... for all' that the ASSUMEROLE examples start from, and the grant for create model; IAM role ARN left as is

-- part: privileges
revoke assumerole on all from public for all;

-- part: privileges
grant assumerole on 'arn:aws:iam::123456789012:role/Redshift-ML'
to reg_user1 for create model;
