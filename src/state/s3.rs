//! The S3 state backend: `GetObject` with the same AWS credentials as the live reads. A missing
//! object, a missing bucket or a denied read is an error naming the URL: never "no resources".

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::clients::aws::AwsContext;
use crate::error::{Error, Result};

pub async fn read(
    aws: &AwsContext,
    url: &str,
    bucket: &str,
    key: &str,
    region: Option<&str>,
) -> Result<(String, Vec<u8>)> {
    let region = region
        .map(str::to_string)
        .or_else(|| aws.default_region())
        .ok_or_else(|| {
            Error::new(
                format!("state {url}"),
                "no region for the bucket: add ?region=… to the URL or set AWS_REGION",
            )
        })?;
    let client = aws.s3(&region);
    aws.count("s3", "GetObject");
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            let hint = match e.code() {
                Some("NoSuchKey") => " (no state at this key: check the key and --workspace)",
                Some("NoSuchBucket") => " (no such bucket)",
                Some("AccessDenied") => " (the credentials lack s3:GetObject on it)",
                Some("PermanentRedirect") | Some("AuthorizationHeaderMalformed") => {
                    " (the bucket is in another region: add ?region=… to the URL)"
                }
                _ => "",
            };
            let inner = aws.error("s3", "GetObject", &region, e);
            Error::new(
                format!("state {url}"),
                format!("{}: {}{hint}", inner.input, inner.message),
            )
        })?;
    let bytes = out.body.collect().await.map_err(|e| {
        // The chain says what went wrong (a checksum that does not match, a cut connection).
        let mut why = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            why = format!("{why}: {cause}");
            source = cause.source();
        }
        Error::new(
            format!("state {url}"),
            format!("AWS s3 GetObject in {region}: reading the object failed: {why}"),
        )
    })?;
    Ok((url.to_string(), bytes.into_bytes().to_vec()))
}
