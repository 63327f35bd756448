//! Only whole answers are evidence. An AWS answer cut short with valid framing (a matching
//! `Content-Length`, a clean chunked end) deserializes into fewer items than the cloud holds: a
//! group without its world-open rule, an empty encryption configuration. This HTTP client wraps
//! the SDK's own and reads every successful answer to its end before the SDK sees it: an XML
//! document must close the element it opened, a JSON document must parse. Anything else is a
//! transport error, retried like one and then reported naming the call (exit 2).
//!
//! A whole document can still be empty: `<GetKeyRotationStatusResponse/>` deserializes into
//! "rotation off", `{}` from `GetBucketPolicy` into a policy without statements. `AlwaysAnswered`, an
//! interceptor on every AWS client, refuses a successful answer that lacks what its operation
//! always returns (the response elements the API reference marks as always present) before the SDK
//! fills the gaps with defaults.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::config_bag::ConfigBag;

/// The SDK's HTTP client, with every successful answer checked whole.
#[derive(Debug, Clone)]
pub struct WholeAnswers {
    inner: SharedHttpClient,
}

impl WholeAnswers {
    pub fn wrap(inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(WholeAnswers { inner })
    }
}

impl HttpClient for WholeAnswers {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Checked {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct Checked {
    inner: SharedHttpConnector,
}

impl HttpConnector for Checked {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        // An object download (a remote state) is data, not an API answer: it streams through, and
        // the state parser refuses a cut one (reading a large state twice would cost seconds).
        if is_object_download(request.uri()) {
            return self.inner.call(request);
        }
        let answer = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let mut response = answer.await?;
            if !response.status().is_success() {
                return Ok(response);
            }
            let content_type = response
                .headers()
                .get("content-type")
                .unwrap_or_default()
                .to_ascii_lowercase();
            let body = ByteStream::new(response.take_body())
                .collect()
                .await
                .map_err(|e| ConnectorError::io(Box::new(e)))?
                .into_bytes();
            if let Err(why) = check(&content_type, &body) {
                return Err(ConnectorError::io(why.into()));
            }
            *response.body_mut() = SdkBody::from(body);
            Ok(response)
        })
    }
}

/// S3 `GetObject` (the SDK marks its requests `x-id=GetObject`).
fn is_object_download(uri: &str) -> bool {
    uri.split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|p| p == "x-id=GetObject"))
}

/// Is `body` a whole document? Checked for API answers (XML or JSON content types), by what the
/// body holds: S3's `GetBucketPolicy` answers a JSON document where other S3 calls answer XML (and
/// emulators label it either way). Other content types pass as they are (object downloads do not
/// come here).
fn check(content_type: &str, body: &[u8]) -> Result<(), String> {
    if !(content_type.contains("xml") || content_type.contains("json")) {
        return Ok(());
    }
    let text = std::str::from_utf8(body).map_err(|_| "an API answer that is not UTF-8")?;
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str::<serde::de::IgnoredAny>(trimmed)
            .map_err(|e| format!("an incomplete or malformed JSON answer: {e}"))?;
        return Ok(());
    }
    let root = root_element(trimmed).ok_or("an empty or cut answer (no document in it)")?;
    // `<Root/>` alone: a whole empty document.
    let self_closed = trimmed.ends_with("/>") && trimmed.matches('<').count() <= 2;
    if !self_closed && !trimmed.ends_with(&format!("</{root}>")) {
        return Err(format!(
            "an incomplete answer: the XML document does not close <{root}> (cut short?)"
        ));
    }
    Ok(())
}

/// What every successful answer of an operation driftgate calls holds: the elements that carry
/// the data the families read, as XML element names (query and REST-XML protocols) or top-level
/// JSON keys (KMS; the policy document `GetBucketPolicy` answers). List wrappers count even when
/// empty (`<securityGroupInfo/>`): AWS writes them for an empty list. (The service models mark
/// almost no output member required, so this is a list of our own; pagination flags such as
/// `IsTruncated` are left out, since emulators omit them where AWS writes `false`.)
const ALWAYS_ANSWERED: &[(&str, &[&str])] = &[
    ("DescribeSecurityGroups", &["securityGroupInfo"]),
    ("DescribeNetworkAcls", &["networkAclSet"]),
    ("DescribeRouteTables", &["routeTableSet"]),
    ("DescribeVolumes", &["volumeSet"]),
    ("DescribeNetworkInterfaces", &["networkInterfaceSet"]),
    ("DescribeLoadBalancers", &["LoadBalancers"]),
    (
        "DescribeLaunchTemplateVersions",
        &["launchTemplateVersionSet"],
    ),
    ("ListFunctions", &["Functions"]),
    ("GetFunctionConfiguration", &["FunctionArn"]),
    ("DescribeCacheClusters", &["CacheClusters"]),
    ("DescribeReplicationGroups", &["ReplicationGroups"]),
    ("GetEbsDefaultKmsKeyId", &["kmsKeyId"]),
    ("GetEbsEncryptionByDefault", &["ebsEncryptionByDefault"]),
    ("GetRole", &["Role", "Arn", "AssumeRolePolicyDocument"]),
    ("GetUser", &["User", "Arn"]),
    ("GetPolicy", &["Policy", "Arn", "DefaultVersionId"]),
    ("GetPolicyVersion", &["PolicyVersion", "Document"]),
    ("GetRolePolicy", &["PolicyDocument"]),
    ("GetUserPolicy", &["PolicyDocument"]),
    ("GetGroupPolicy", &["PolicyDocument"]),
    ("ListAttachedRolePolicies", &["AttachedPolicies"]),
    ("ListAttachedUserPolicies", &["AttachedPolicies"]),
    ("ListAttachedGroupPolicies", &["AttachedPolicies"]),
    ("ListRolePolicies", &["PolicyNames"]),
    ("ListUserPolicies", &["PolicyNames"]),
    ("ListGroupPolicies", &["PolicyNames"]),
    ("DescribeKey", &["KeyMetadata"]),
    ("GetKeyPolicy", &["Policy"]),
    ("GetKeyRotationStatus", &["KeyRotationEnabled"]),
    ("DescribeDBInstances", &["DBInstances"]),
    ("DescribeDBClusters", &["DBClusters"]),
    ("GetBucketAcl", &["Owner", "AccessControlList"]),
    (
        "GetBucketEncryption",
        &["ServerSideEncryptionConfiguration"],
    ),
    ("GetBucketPolicy", &["Statement"]),
    (
        "GetPublicAccessBlock",
        &[
            "BlockPublicAcls",
            "IgnorePublicAcls",
            "BlockPublicPolicy",
            "RestrictPublicBuckets",
        ],
    ),
    ("GetCallerIdentity", &["Account"]),
];

/// Refuses a successful answer without the fields its operation always returns.
#[derive(Debug)]
pub struct AlwaysAnswered;

impl Intercept for AlwaysAnswered {
    fn name(&self) -> &'static str {
        "AlwaysAnswered"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        if !response.status().is_success() {
            return Ok(());
        }
        let Some(operation) = cfg.load::<Metadata>().map(|m| m.name().to_string()) else {
            return Ok(());
        };
        let Some((_, fields)) = ALWAYS_ANSWERED.iter().find(|(op, _)| *op == operation) else {
            return Ok(());
        };
        // Streamed bodies (object downloads) are not API answers; every other body was read whole.
        let Some(body) = response.body().bytes() else {
            return Ok(());
        };
        match absent(body, fields) {
            None => Ok(()),
            Some(field) => Err(format!(
                "a malformed answer: it has no `{field}`, which every {operation} answer holds"
            )
            .into()),
        }
    }
}

/// The first of `fields` that `body` does not hold.
fn absent<'a>(body: &[u8], fields: &[&'a str]) -> Option<&'a str> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let doc: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(trimmed).unwrap_or_default();
        return fields.iter().find(|f| !doc.contains_key(**f)).copied();
    }
    fields
        .iter()
        .find(|f| {
            let open = format!("<{f}");
            !text.match_indices(&open).any(|(i, _)| {
                matches!(
                    text[i + open.len()..].chars().next(),
                    Some('>' | '/' | ' ' | '\t' | '\n' | '\r')
                )
            })
        })
        .copied()
}

/// The name of the first element, after the XML declaration and comments.
fn root_element(text: &str) -> Option<&str> {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>")?.1.trim_start();
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->")?.1.trim_start();
        } else {
            break;
        }
    }
    let tag = rest.strip_prefix('<')?;
    let end = tag.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    // `<Root/>`: a whole empty document has no closing tag to look for.
    let name = &tag[..end];
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_cut_documents() {
        let whole = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><securityGroupInfo><item><groupId>sg-1</groupId></item></securityGroupInfo></DescribeSecurityGroupsResponse>\n";
        assert!(check("text/xml;charset=utf-8", whole.as_bytes()).is_ok());
        let cut = &whole[..whole.find("<item>").unwrap()];
        assert!(check("text/xml", cut.as_bytes())
            .unwrap_err()
            .contains("does not close <DescribeSecurityGroupsResponse>"));
        assert!(check("application/xml", b"").is_err());
        assert!(check("application/x-amz-json-1.1", b"{\"KeyMetadata\": {").is_err());
        assert!(check("application/x-amz-json-1.1", b"{\"Policy\": \"{}\"}").is_ok());
        // An S3 object (a state file) is not an API document.
        assert!(check("binary/octet-stream", b"{\"version\": 4").is_ok());
        assert_eq!(root_element("<!-- c --><A><B/></A>"), Some("A"));
        assert!(is_object_download(
            "http://127.0.0.1:5000/tf-state/envs/prod.tfstate?x-id=GetObject"
        ));
        assert!(!is_object_download(
            "http://127.0.0.1:5000/logs/?encryption"
        ));
        assert!(check(
            "text/xml",
            b"<?xml version=\"1.0\"?>\n<Empty xmlns=\"x\"/>\n"
        )
        .is_ok());
    }

    #[test]
    fn answers_without_what_they_always_hold() {
        let fields: &[&str] = &["AttachedPolicies", "IsTruncated"];
        let listed = b"<ListAttachedRolePoliciesResponse><ListAttachedRolePoliciesResult><AttachedPolicies/><IsTruncated>false</IsTruncated></ListAttachedRolePoliciesResult></ListAttachedRolePoliciesResponse>";
        assert_eq!(absent(listed, fields), None);
        // `<IsTruncatedX>` is another element.
        let other = b"<R><AttachedPolicies></AttachedPolicies><IsTruncatedX>1</IsTruncatedX></R>";
        assert_eq!(absent(other, fields), Some("IsTruncated"));
        assert_eq!(
            absent(b"<ListAttachedRolePoliciesResponse/>", fields),
            Some("AttachedPolicies")
        );
        let rotation: &[&str] = &["KeyRotationEnabled"];
        assert_eq!(absent(b"{}", rotation), Some("KeyRotationEnabled"));
        assert_eq!(absent(b"{\"KeyRotationEnabled\": false}", rotation), None);
    }
}
