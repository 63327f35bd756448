//! The effective public access of S3 buckets, shared by every bucket family (Block Public Access,
//! policy, ACL, encryption): a drift on a bucket anyone can read matters more than the same drift
//! on a private one. The policy, the ACL, and the bucket's and the account's Block Public Access
//! are read together (three calls per drifted bucket, one per account) and judged as S3 does:
//! `RestrictPublicBuckets` voids a public policy, `IgnorePublicAcls` a public ACL.

use std::collections::BTreeMap;

use aws_sdk_s3::error::ProvideErrorMetadata;
use serde_json::Value;

use super::iam::statement_item;
use super::policy_document::{outside_principals, statements};
use crate::clients::aws::AwsContext;
use crate::error::{Error, Result};
use crate::families::Subject;
use crate::model::{Exposure, Reach};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// The two Block Public Access flags that decide whether public grants apply.
#[derive(Debug, Clone, Copy, Default)]
struct Blocks {
    ignore_public_acls: bool,
    restrict_public_buckets: bool,
}

/// The reach of each drifted bucket, by name.
pub async fn buckets_reach(
    aws: &AwsContext,
    region: &str,
    objects: &[Subject<'_>],
) -> Result<BTreeMap<String, Reach>> {
    let account = aws.caller_account(region).await?;
    let account_blocks = account_block(aws, region, &account).await?;
    let client = aws.s3(region);
    let mut out = BTreeMap::new();
    for o in objects {
        let bucket = o.live.cloud_id.as_str();
        let own = bucket_block(aws, &client, region, bucket).await?;
        let blocks = Blocks {
            ignore_public_acls: own.ignore_public_acls || account_blocks.ignore_public_acls,
            restrict_public_buckets: own.restrict_public_buckets
                || account_blocks.restrict_public_buckets,
        };
        let policy = policy_grants(aws, &client, region, bucket, &account).await?;
        let acl = public_acl(aws, &client, region, bucket).await?;
        out.insert(bucket.to_string(), judge(bucket, blocks, &policy, &acl));
    }
    Ok(out)
}

fn judge(bucket: &str, blocks: Blocks, policy: &[(Exposure, String)], acl: &[String]) -> Reach {
    let mut reasons = Vec::new();
    let public_policy: Vec<&String> = policy
        .iter()
        .filter(|(e, _)| *e == Exposure::Internet)
        .map(|(_, why)| why)
        .collect();
    if let Some(why) = public_policy.first() {
        if blocks.restrict_public_buckets {
            reasons.push(format!(
                "the policy of {bucket} is public ({why}), but RestrictPublicBuckets voids it"
            ));
        } else {
            return Reach {
                exposure: Exposure::Internet,
                reasons: vec![format!(
                    "the policy of {bucket} is public ({why}), and Block Public Access does not \
                     restrict public buckets"
                )],
            };
        }
    }
    if let Some(grant) = acl.first() {
        if blocks.ignore_public_acls {
            reasons.push(format!(
                "the ACL of {bucket} grants {grant}, but IgnorePublicAcls voids it"
            ));
        } else {
            return Reach {
                exposure: Exposure::Internet,
                reasons: vec![format!(
                    "the ACL of {bucket} grants {grant}, and Block Public Access does not ignore \
                     public ACLs"
                )],
            };
        }
    }
    let cross: Vec<&String> = policy
        .iter()
        .filter(|(e, _)| *e == Exposure::CrossAccount)
        .map(|(_, why)| why)
        .collect();
    if let Some(why) = cross.first() {
        reasons.insert(0, format!("the policy of {bucket}: {why}"));
        return Reach {
            exposure: Exposure::CrossAccount,
            reasons,
        };
    }
    if reasons.is_empty() {
        reasons.push(format!(
            "neither the policy nor the ACL of {bucket} grants access outside the account"
        ));
    }
    Reach {
        exposure: Exposure::Private,
        reasons,
    }
}

/// The account's Block Public Access (none set: nothing blocked).
async fn account_block(aws: &AwsContext, region: &str, account: &str) -> Result<Blocks> {
    aws.count("s3control", "GetPublicAccessBlock");
    match aws
        .s3control(region)
        .get_public_access_block()
        .account_id(account)
        .send()
        .await
    {
        Ok(o) => Ok(o
            .public_access_block_configuration
            .map(|c| Blocks {
                ignore_public_acls: c.ignore_public_acls() == Some(true),
                restrict_public_buckets: c.restrict_public_buckets() == Some(true),
            })
            .unwrap_or_default()),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(Blocks::default()),
        Err(e) => Err(aws.error("s3control", "GetPublicAccessBlock", region, e)),
    }
}

async fn bucket_block(
    aws: &AwsContext,
    client: &aws_sdk_s3::Client,
    region: &str,
    bucket: &str,
) -> Result<Blocks> {
    aws.count("s3", "GetPublicAccessBlock");
    match client.get_public_access_block().bucket(bucket).send().await {
        Ok(o) => Ok(o
            .public_access_block_configuration
            .map(|c| Blocks {
                ignore_public_acls: c.ignore_public_acls() == Some(true),
                restrict_public_buckets: c.restrict_public_buckets() == Some(true),
            })
            .unwrap_or_default()),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(Blocks::default()),
        Err(e) => Err(aws.error("s3", "GetPublicAccessBlock", region, e)),
    }
}

/// Who outside the account the bucket policy lets in, statement by statement.
async fn policy_grants(
    aws: &AwsContext,
    client: &aws_sdk_s3::Client,
    region: &str,
    bucket: &str,
    account: &str,
) -> Result<Vec<(Exposure, String)>> {
    aws.count("s3", "GetBucketPolicy");
    let text = match client.get_bucket_policy().bucket(bucket).send().await {
        Ok(o) => o.policy.unwrap_or_default(),
        Err(e) if e.code() == Some("NoSuchBucketPolicy") => return Ok(Vec::new()),
        Err(e) => return Err(aws.error("s3", "GetBucketPolicy", region, e)),
    };
    let found = statements(&Value::String(text)).map_err(|e| {
        Error::new(
            format!("AWS S3 bucket {bucket}"),
            format!("unexpected bucket policy: {e}"),
        )
    })?;
    Ok(found
        .into_iter()
        .map(statement_item)
        .filter_map(|i| outside_principals(&i.value, &i.summary, Some(account)))
        .collect())
}

/// The ACL's grants to everyone or to every AWS user, as `READ to AllUsers`.
async fn public_acl(
    aws: &AwsContext,
    client: &aws_sdk_s3::Client,
    region: &str,
    bucket: &str,
) -> Result<Vec<String>> {
    aws.count("s3", "GetBucketAcl");
    let acl = client
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| aws.error("s3", "GetBucketAcl", region, e))?;
    Ok(acl
        .grants()
        .iter()
        .filter_map(|g| {
            let uri = g.grantee()?.uri()?;
            let who = match uri {
                ALL_USERS => "AllUsers",
                AUTHENTICATED_USERS => "AuthenticatedUsers",
                _ => return None,
            };
            let permission = g.permission().map(|p| p.as_str()).unwrap_or("?");
            Some(format!("{permission} to {who}"))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_public_access_voids_what_it_covers() {
        let public = vec![(Exposure::Internet, "`Allow *` lets in any principal".into())];
        let acl = vec!["READ to AllUsers".to_string()];
        let open = Blocks::default();
        let shut = Blocks {
            ignore_public_acls: true,
            restrict_public_buckets: true,
        };
        assert_eq!(judge("b", open, &public, &[]).exposure, Exposure::Internet);
        assert_eq!(judge("b", open, &[], &acl).exposure, Exposure::Internet);
        let r = judge("b", shut, &public, &acl);
        assert_eq!(r.exposure, Exposure::Private);
        assert!(r
            .reasons
            .iter()
            .any(|r| r.contains("RestrictPublicBuckets")));
        assert!(r.reasons.iter().any(|r| r.contains("IgnorePublicAcls")));
        // The ACL still applies when only public policies are restricted.
        let policy_only = Blocks {
            ignore_public_acls: false,
            restrict_public_buckets: true,
        };
        assert_eq!(
            judge("b", policy_only, &public, &acl).exposure,
            Exposure::Internet
        );
        let cross = vec![(Exposure::CrossAccount, "lets in account 2".into())];
        assert_eq!(
            judge("b", open, &cross, &[]).exposure,
            Exposure::CrossAccount
        );
        assert_eq!(judge("b", open, &[], &[]).exposure, Exposure::Private);
    }
}
