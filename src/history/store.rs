//! Where the history lives: a directory, `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX` or
//! `azurerm://ACCOUNT/CONTAINER/PREFIX`, with the same credentials as the state backends. Writes
//! only create (a conditional write that fails if the object exists); reads list a prefix and
//! fetch objects.

use std::path::PathBuf;

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::clients::aws::{AwsContext, AwsSettings};
use crate::clients::azure::AzureContext;
use crate::clients::gcp::GcpContext;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Dest {
    Dir(PathBuf),
    S3 {
        bucket: String,
        prefix: String,
    },
    Gcs {
        bucket: String,
        prefix: String,
    },
    Azure {
        account: String,
        container: String,
        prefix: String,
    },
}

impl Dest {
    pub fn parse(text: &str) -> Result<Dest> {
        let bad = |why: &str| Error::new("--history", format!("`{text}`: {why}"));
        let split = |rest: &str| -> (String, String) {
            match rest.split_once('/') {
                Some((b, p)) => (b.to_string(), p.trim_matches('/').to_string()),
                None => (rest.to_string(), String::new()),
            }
        };
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = split(rest);
            if bucket.is_empty() {
                return Err(bad("expected s3://BUCKET/PREFIX"));
            }
            Ok(Dest::S3 { bucket, prefix })
        } else if let Some(rest) = text.strip_prefix("gs://") {
            let (bucket, prefix) = split(rest);
            if bucket.is_empty() {
                return Err(bad("expected gs://BUCKET/PREFIX"));
            }
            Ok(Dest::Gcs { bucket, prefix })
        } else if let Some(rest) = text.strip_prefix("azurerm://") {
            let (account, rest) = split(rest);
            let (container, prefix) = split(&rest);
            if account.is_empty() || container.is_empty() {
                return Err(bad("expected azurerm://ACCOUNT/CONTAINER/PREFIX"));
            }
            Ok(Dest::Azure {
                account,
                container,
                prefix,
            })
        } else if text.contains("://") {
            Err(bad(
                "unknown scheme (a directory, s3://, gs:// or azurerm://)",
            ))
        } else if text.is_empty() {
            Err(bad("empty"))
        } else {
            Ok(Dest::Dir(PathBuf::from(text)))
        }
    }

    /// The full name of `key` (for messages).
    pub fn name(&self, key: &str) -> String {
        let join = |base: String, prefix: &str| {
            if prefix.is_empty() {
                format!("{base}/{key}")
            } else {
                format!("{base}/{prefix}/{key}")
            }
        };
        match self {
            Dest::Dir(d) => d.join(key).display().to_string(),
            Dest::S3 { bucket, prefix } => join(format!("s3://{bucket}"), prefix),
            Dest::Gcs { bucket, prefix } => join(format!("gs://{bucket}"), prefix),
            Dest::Azure {
                account,
                container,
                prefix,
            } => join(format!("azurerm://{account}/{container}"), prefix),
        }
    }

    fn object(&self, prefix: &str, key: &str) -> String {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}/{key}")
        }
    }
}

/// A destination with its cloud client.
pub enum Store {
    Dir(PathBuf),
    S3 {
        aws: Box<AwsContext>,
        region: String,
        bucket: String,
        prefix: String,
    },
    Gcs {
        gcp: Box<GcpContext>,
        bucket: String,
        prefix: String,
    },
    Azure {
        azure: Box<AzureContext>,
        account: String,
        container: String,
        prefix: String,
    },
}

impl Store {
    pub async fn open(dest: &Dest, aws: &AwsSettings) -> Result<Store> {
        Ok(match dest {
            Dest::Dir(d) => Store::Dir(d.clone()),
            Dest::S3 { bucket, prefix } => {
                let ctx = AwsContext::load(aws).await?;
                let region = ctx.default_region().ok_or_else(|| {
                    Error::new(
                        format!("history {}", dest.name("")),
                        "no region for the bucket: set AWS_REGION",
                    )
                })?;
                Store::S3 {
                    aws: Box::new(ctx),
                    region,
                    bucket: bucket.clone(),
                    prefix: prefix.clone(),
                }
            }
            Dest::Gcs { bucket, prefix } => Store::Gcs {
                gcp: Box::new(GcpContext::load()?),
                bucket: bucket.clone(),
                prefix: prefix.clone(),
            },
            Dest::Azure {
                account,
                container,
                prefix,
            } => Store::Azure {
                azure: Box::new(AzureContext::load()?),
                account: account.clone(),
                container: container.clone(),
                prefix: prefix.clone(),
            },
        })
    }

    fn dest(&self) -> Dest {
        match self {
            Store::Dir(d) => Dest::Dir(d.clone()),
            Store::S3 { bucket, prefix, .. } => Dest::S3 {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
            },
            Store::Gcs { bucket, prefix, .. } => Dest::Gcs {
                bucket: bucket.clone(),
                prefix: prefix.clone(),
            },
            Store::Azure {
                account,
                container,
                prefix,
                ..
            } => Dest::Azure {
                account: account.clone(),
                container: container.clone(),
                prefix: prefix.clone(),
            },
        }
    }

    /// Creates `key`; an object already there is an error, never replaced.
    pub async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        let dest = self.dest();
        let what = format!("history {}", dest.name(key));
        match self {
            Store::Dir(dir) => {
                let path = dir.join(key);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        Error::new(&what, format!("cannot create the directory: {e}"))
                    })?;
                }
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .map_err(|e| Error::new(&what, format!("cannot create: {e}")))?;
                file.write_all(&bytes)
                    .and_then(|_| file.sync_all())
                    .map_err(|e| Error::new(&what, format!("cannot write: {e}")))
            }
            Store::S3 {
                aws,
                region,
                bucket,
                prefix,
            } => {
                aws.count("s3", "PutObject");
                aws.s3(region)
                    .put_object()
                    .bucket(bucket)
                    .key(dest.object(prefix, key))
                    // Conditional write: S3 refuses (412) rather than replace an object.
                    .if_none_match("*")
                    .content_type("application/json")
                    .body(bytes.into())
                    .send()
                    .await
                    .map_err(|e| {
                        let hint = match e.code() {
                            Some("AccessDenied") => " (the credentials lack s3:PutObject on it)",
                            Some("NoSuchBucket") => " (no such bucket)",
                            Some("PreconditionFailed") => " (an object is already there)",
                            _ => "",
                        };
                        let inner = aws.error("s3", "PutObject", region, e);
                        Error::new(&what, format!("{}: {}{hint}", inner.input, inner.message))
                    })?;
                Ok(())
            }
            Store::Gcs {
                gcp,
                bucket,
                prefix,
            } => gcp
                .upload_new(bucket, &dest.object(prefix, key), bytes)
                .await
                .map_err(|e| Error::new(&what, e.message)),
            Store::Azure {
                azure,
                account,
                container,
                prefix,
            } => azure
                .upload_new_blob(account, container, &dest.object(prefix, key), bytes)
                .await
                .map_err(|e| Error::new(&what, e.message)),
        }
    }

    /// Keys (relative to the destination's prefix) under `sub`, sorted.
    pub async fn list(&self, sub: &str) -> Result<Vec<String>> {
        let dest = self.dest();
        let mut keys = match self {
            Store::Dir(dir) => {
                let mut out = Vec::new();
                let start = dir.join(sub);
                if start.exists() {
                    walk(&start, dir, &mut out).map_err(|e| {
                        Error::new(format!("history {}", dest.name(sub)), e.to_string())
                    })?;
                } else if !dir.exists() {
                    return Err(Error::new(
                        format!("history {}", dir.display()),
                        "no such directory",
                    ));
                }
                out
            }
            Store::S3 {
                aws,
                region,
                bucket,
                prefix,
            } => {
                let full = dest.object(prefix, sub);
                let mut out = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    aws.count("s3", "ListObjectsV2");
                    let page = aws
                        .s3(region)
                        .list_objects_v2()
                        .bucket(bucket)
                        .prefix(&full)
                        .set_continuation_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| {
                            let inner = aws.error("s3", "ListObjectsV2", region, e);
                            Error::new(
                                format!("history {}", dest.name(sub)),
                                format!("{}: {}", inner.input, inner.message),
                            )
                        })?;
                    // S3 always says how many keys and whether more follow: an answer without
                    // them is a cut or empty one, and an empty listing must not look like an
                    // empty history.
                    let count = page.key_count();
                    if page.is_truncated().is_none()
                        || count.is_none_or(|c| c as usize != page.contents().len())
                    {
                        return Err(Error::new(
                            format!("history {}", dest.name(sub)),
                            format!(
                                "AWS s3 ListObjectsV2 in {region}: the answer is incomplete \
                                 (KeyCount {count:?} for {} key(s), IsTruncated {:?})",
                                page.contents().len(),
                                page.is_truncated()
                            ),
                        ));
                    }
                    out.extend(
                        page.contents()
                            .iter()
                            .filter_map(|o| o.key().map(str::to_string)),
                    );
                    match page.next_continuation_token() {
                        Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                        _ => break,
                    }
                }
                out
            }
            Store::Gcs {
                gcp,
                bucket,
                prefix,
            } => gcp.list_objects(bucket, &dest.object(prefix, sub)).await?,
            Store::Azure {
                azure,
                account,
                container,
                prefix,
            } => {
                azure
                    .list_blobs(account, container, &dest.object(prefix, sub))
                    .await?
            }
        };
        let strip = match self {
            Store::Dir(_) => String::new(),
            Store::S3 { prefix, .. } | Store::Gcs { prefix, .. } | Store::Azure { prefix, .. } => {
                if prefix.is_empty() {
                    String::new()
                } else {
                    format!("{prefix}/")
                }
            }
        };
        for k in &mut keys {
            if let Some(rest) = k.strip_prefix(&strip) {
                *k = rest.to_string();
            }
        }
        keys.sort();
        Ok(keys)
    }

    pub async fn get(&self, key: &str) -> Result<Vec<u8>> {
        let dest = self.dest();
        let what = format!("history {}", dest.name(key));
        match self {
            Store::Dir(dir) => std::fs::read(dir.join(key))
                .map_err(|e| Error::new(&what, format!("cannot read: {e}"))),
            Store::S3 {
                aws,
                region,
                bucket,
                prefix,
            } => {
                aws.count("s3", "GetObject");
                let out = aws
                    .s3(region)
                    .get_object()
                    .bucket(bucket)
                    .key(dest.object(prefix, key))
                    .send()
                    .await
                    .map_err(|e| {
                        let inner = aws.error("s3", "GetObject", region, e);
                        Error::new(&what, format!("{}: {}", inner.input, inner.message))
                    })?;
                let bytes = out.body.collect().await.map_err(|e| {
                    Error::new(
                        &what,
                        format!("AWS s3 GetObject in {region}: reading the object failed: {e}"),
                    )
                })?;
                Ok(bytes.into_bytes().to_vec())
            }
            Store::Gcs {
                gcp,
                bucket,
                prefix,
            } => gcp
                .download(bucket, &dest.object(prefix, key))
                .await?
                .ok_or_else(|| Error::new(&what, "listed, then gone")),
            Store::Azure {
                azure,
                account,
                container,
                prefix,
            } => azure
                .download_blob(account, container, &dest.object(prefix, key))
                .await?
                .ok_or_else(|| Error::new(&what, "listed, then gone")),
        }
    }
}

fn walk(
    dir: &std::path::Path,
    root: &std::path::Path,
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, root, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            // Keys use `/` whatever the platform.
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_record_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::Dir(dir.path().to_path_buf());
        store
            .put_new("runs/2026/12/02/a.json", b"1".to_vec())
            .await
            .unwrap();
        let e = store
            .put_new("runs/2026/12/02/a.json", b"2".to_vec())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("a.json") && e.contains("cannot create"), "{e}");
        assert_eq!(store.get("runs/2026/12/02/a.json").await.unwrap(), b"1");
        assert_eq!(
            store.list("runs/").await.unwrap(),
            ["runs/2026/12/02/a.json"]
        );
    }

    #[test]
    fn destinations() {
        assert_eq!(
            Dest::parse("s3://acme-drift/history/").unwrap(),
            Dest::S3 {
                bucket: "acme-drift".into(),
                prefix: "history".into()
            }
        );
        assert_eq!(
            Dest::parse("gs://b").unwrap(),
            Dest::Gcs {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            Dest::parse("azurerm://acct/drift/prod").unwrap(),
            Dest::Azure {
                account: "acct".into(),
                container: "drift".into(),
                prefix: "prod".into()
            }
        );
        assert_eq!(
            Dest::parse("history").unwrap(),
            Dest::Dir(PathBuf::from("history"))
        );
        for bad in ["azurerm://acct", "s3://", "ftp://x/y", ""] {
            assert!(Dest::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Dest::parse("s3://b/p").unwrap().name("runs/x.json"),
            "s3://b/p/runs/x.json"
        );
    }
}
