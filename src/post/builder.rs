//! Building a signed browser upload form: the policy, the fields and the form action URL.

use core::fmt;
use core::fmt::Write as _;

use crate::canonical::is_token;
use crate::limits::{
    MAX_POST_FIELD_NAME_LEN, MAX_POST_FIELDS, MAX_POST_FORM_BYTES, MAX_POST_POLICY_CONDITIONS,
    MAX_POST_POLICY_LEN,
};
use crate::s3::{AddressingStyle, Bucket, Endpoint, validate_key};
use crate::string_to_sign::ALGORITHM;
use crate::{Error, Expiry, MAX_EXPIRY_SECS, Signer, SigningTime};

use super::FILENAME_VARIABLE;
use super::policy::{Condition, PolicyDocument};

/// The object key a form uploads to.
///
/// ```
/// use presign::post::PostKey;
/// assert_eq!(PostKey::with_filename("uploads/").field_value(), "uploads/${filename}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PostKey {
    /// Exactly this key (`{"key": "…"}`).
    Exact(String),
    /// Any key that starts with this prefix (`["starts-with", "$key", "…"]`). The form's `key`
    /// field holds the prefix; a script on the page may lengthen it before the upload.
    StartsWith(String),
    /// The prefix followed by the name of the file the user picks: the `key` field is
    /// `prefix${filename}`, which S3 (and [`Verifier::verify_post`]) expand, and the policy
    /// says `["starts-with", "$key", "prefix"]`, as boto3 and the JS SDK do.
    ///
    /// [`Verifier::verify_post`]: crate::verify::Verifier::verify_post
    WithFilename(String),
}

impl PostKey {
    /// Exactly `key`.
    pub fn exact(key: impl Into<String>) -> Self {
        PostKey::Exact(key.into())
    }

    /// Any key starting with `prefix` (which must not be empty).
    pub fn starts_with(prefix: impl Into<String>) -> Self {
        PostKey::StartsWith(prefix.into())
    }

    /// `prefix` followed by the uploaded file's name (`prefix` may be empty).
    pub fn with_filename(prefix: impl Into<String>) -> Self {
        PostKey::WithFilename(prefix.into())
    }

    /// The value of the form's `key` field.
    pub fn field_value(&self) -> String {
        match self {
            PostKey::Exact(k) | PostKey::StartsWith(k) => k.clone(),
            PostKey::WithFilename(prefix) => format!("{prefix}{FILENAME_VARIABLE}"),
        }
    }

    fn condition(&self) -> Condition {
        match self {
            PostKey::Exact(k) => Condition::eq("key", k.as_str()),
            PostKey::StartsWith(p) | PostKey::WithFilename(p) => {
                Condition::starts_with("key", p.as_str())
            }
        }
    }

    fn validate(&self) -> Result<(), Error> {
        let (text, can_be_empty) = match self {
            PostKey::Exact(k) => (k, false),
            PostKey::StartsWith(p) => (p, false),
            PostKey::WithFilename(p) => (p, true),
        };
        if text.contains(FILENAME_VARIABLE) {
            return Err(Error::InvalidParameter {
                name: "key".into(),
                reason: "${filename} is only expanded at the end of a key: use PostKey::with_filename(prefix)",
            });
        }
        if !(can_be_empty && text.is_empty()) {
            validate_key(text)?;
        }
        validate_key(&self.field_value())?;
        if text.contains(['\r', '\n']) {
            return Err(Error::InvalidKey(
                "a form key cannot contain CR or LF (browsers rewrite line breaks)",
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum Expiration {
    In(Expiry),
    At(SigningTime),
}

#[derive(Clone, Debug)]
enum Rule {
    Eq(String),
    StartsWith(String),
}

/// Fields the builder writes itself (compared ignoring case), and the SigV2 ones it never
/// writes.
const RESERVED_FIELDS: [&str; 11] = [
    "key",
    "bucket",
    "policy",
    "file",
    "x-amz-signature",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
    "awsaccesskeyid",
    "signature",
];

/// Builds a [`PresignedPost`]: see [`PresignedPost::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct PresignedPostBuilder<'a> {
    endpoint: &'a Endpoint,
    bucket: Bucket<'a>,
    key: PostKey,
    expiration: Expiration,
    length: Option<(u64, u64)>,
    rules: Vec<(String, Rule)>,
}

impl<'a> PresignedPostBuilder<'a> {
    /// The form stays valid for `expires` after the signing time (default 1 hour, as boto3;
    /// at most 7 days).
    pub fn expires_in(mut self, expires: Expiry) -> Self {
        self.expiration = Expiration::In(expires);
        self
    }

    /// The form stays valid until `at`: after the signing time, at most 7 days after it.
    pub fn expires_at(mut self, at: SigningTime) -> Self {
        self.expiration = Expiration::At(at);
        self
    }

    /// The file must have `min..=max` bytes (`content-length-range`).
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.length = Some((min, max));
        self
    }

    /// The object's `Content-Type` is exactly `value`.
    pub fn content_type(self, value: impl Into<String>) -> Self {
        self.field("Content-Type", value)
    }

    /// The object's `Content-Type` starts with `prefix` (`image/`); with a comma-separated
    /// list every item must. The field starts as `prefix`: the page sets the real type.
    pub fn content_type_starts_with(self, prefix: impl Into<String>) -> Self {
        self.field_starts_with("Content-Type", prefix)
    }

    /// User metadata `x-amz-meta-<name>` is exactly `value`.
    pub fn metadata(self, name: &str, value: impl Into<String>) -> Self {
        self.field(format!("x-amz-meta-{name}"), value)
    }

    /// User metadata `x-amz-meta-<name>` starts with `prefix` (`""`: any value).
    pub fn metadata_starts_with(self, name: &str, prefix: impl Into<String>) -> Self {
        self.field_starts_with(format!("x-amz-meta-{name}"), prefix)
    }

    /// The canned ACL (`private`, `public-read`, …).
    pub fn acl(self, acl: impl Into<String>) -> Self {
        self.field("acl", acl)
    }

    /// The status S3 answers a successful upload with: 200, 201 (an XML body) or 204.
    pub fn success_action_status(self, status: u16) -> Self {
        self.field("success_action_status", status.to_string())
    }

    /// Where the browser is redirected after a successful upload.
    pub fn success_action_redirect(self, url: impl Into<String>) -> Self {
        self.field("success_action_redirect", url)
    }

    /// The object's tags, as the `<Tagging>` XML document.
    pub fn tagging(self, xml: impl Into<String>) -> Self {
        self.field("tagging", xml)
    }

    /// The object's `Cache-Control`.
    pub fn cache_control(self, value: impl Into<String>) -> Self {
        self.field("Cache-Control", value)
    }

    /// The object's `Content-Disposition`.
    pub fn content_disposition(self, value: impl Into<String>) -> Self {
        self.field("Content-Disposition", value)
    }

    /// Any form field (`x-amz-storage-class`, `x-amz-server-side-encryption`, …) with exactly
    /// `value`: the field is added to the form and bound by `{"name": "value"}`.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.rules.push((name.into(), Rule::Eq(value.into())));
        self
    }

    /// Any form field whose value must start with `prefix`: the field is added with `prefix`
    /// as its value, and bound by `["starts-with", "$name", "prefix"]`.
    pub fn field_starts_with(mut self, name: impl Into<String>, prefix: impl Into<String>) -> Self {
        self.rules
            .push((name.into(), Rule::StartsWith(prefix.into())));
        self
    }

    /// Signs the policy with `signer` at `time` (the signer's region and service form the
    /// credential scope; use service `s3`).
    ///
    /// Refuses, with [`Error::InvalidParameter`] naming the field: a reserved field (`key`,
    /// `bucket`, `policy`, `file`, the `x-amz-*` auth fields), a field given twice, a name that
    /// is not an RFC 9110 token, a value with CR or LF (browsers rewrite line breaks), a
    /// `starts-with` on `success_action_status` or `tagging` (S3 matches them exactly), a status
    /// other than 200, 201, 204, a `content-length-range` whose minimum is above its maximum.
    /// Also refused: an expiration not in the next 7 days ([`Error::InvalidExpiry`]), a form
    /// over [`MAX_POST_FORM_BYTES`] ([`Error::TooMany`]), an endpoint of another region.
    pub fn sign(&self, signer: &Signer, time: SigningTime) -> Result<PresignedPost, Error> {
        self.endpoint.check_region(signer.region())?;
        let url = action_url(self.endpoint, &self.bucket)?;
        let expiration = match self.expiration {
            Expiration::In(e) => time.add_seconds(i64::from(e.as_secs())),
            Expiration::At(at) => {
                // Saturating is exact: a saturated difference is out of range either way.
                let secs = at.unix_timestamp().saturating_sub(time.unix_timestamp());
                if secs <= 0 || secs > i64::from(MAX_EXPIRY_SECS) {
                    return Err(Error::InvalidExpiry(format!(
                        "the form expiration {at} must be after the signing time {time} and at most 7 days after it"
                    )));
                }
                at
            }
        };
        self.key.validate()?;
        if let Some((min, max)) = self.length {
            if min > max {
                return Err(Error::InvalidParameter {
                    name: "content-length-range".into(),
                    reason: "the minimum is greater than the maximum",
                });
            }
        }

        let mut conditions = vec![
            Condition::eq("bucket", self.bucket.as_str()),
            self.key.condition(),
        ];
        let mut fields: Vec<(String, String)> = vec![("key".into(), self.key.field_value())];
        for (i, (name, rule)) in self.rules.iter().enumerate() {
            let bad = |reason: &'static str| Error::InvalidParameter {
                name: name.clone(),
                reason,
            };
            check_field_name(name).map_err(bad)?;
            if self
                .rules
                .iter()
                .take(i)
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                return Err(bad("the field is given twice"));
            }
            let (value, condition) = match rule {
                Rule::Eq(v) => (v, Condition::eq(name.as_str(), v.as_str())),
                Rule::StartsWith(p) => {
                    if EXACT_ONLY.iter().any(|f| f.eq_ignore_ascii_case(name)) {
                        return Err(bad("S3 only matches this field exactly"));
                    }
                    (p, Condition::starts_with(name.as_str(), p.as_str()))
                }
            };
            if value.contains(['\r', '\n']) {
                return Err(bad(
                    "a form value cannot contain CR or LF: browsers send line breaks as CRLF",
                ));
            }
            if name.eq_ignore_ascii_case("success_action_status")
                && !matches!(value.as_str(), "200" | "201" | "204")
            {
                return Err(bad("S3 answers with 200, 201 or 204 only"));
            }
            conditions.push(condition);
            fields.push((name.clone(), value.clone()));
        }
        if let Some((min, max)) = self.length {
            conditions.push(Condition::content_length_range(min, max));
        }

        let credentials = signer.credentials();
        let credential = format!("{}/{}", credentials.access_key_id(), signer.scope(time));
        let amz_date = time.amz_date();
        let mut auth: Vec<(String, String)> = vec![
            ("x-amz-algorithm".into(), ALGORITHM.into()),
            ("x-amz-credential".into(), credential),
            ("x-amz-date".into(), amz_date.as_str().into()),
        ];
        if let Some(token) = credentials.session_token() {
            auth.push(("x-amz-security-token".into(), token.into()));
        }
        for (name, value) in &auth {
            conditions.push(Condition::eq(name.as_str(), value.as_str()));
        }
        fields.extend(auth);
        if conditions.len() > MAX_POST_POLICY_CONDITIONS {
            return Err(Error::TooMany {
                what: "POST policy conditions",
                limit: MAX_POST_POLICY_CONDITIONS,
            });
        }

        let policy = PolicyDocument::new(expiration, conditions);
        let policy_b64 = policy.to_base64();
        if policy_b64.len() > MAX_POST_POLICY_LEN {
            return Err(Error::TooMany {
                what: "bytes of base64 POST policy",
                limit: MAX_POST_POLICY_LEN,
            });
        }
        let signature = signer.sign_string(&policy_b64, time);
        fields.push(("policy".into(), policy_b64));
        fields.push(("x-amz-signature".into(), signature.to_hex().as_str().into()));

        if fields.len() > MAX_POST_FIELDS {
            return Err(Error::TooMany {
                what: "POST form fields",
                limit: MAX_POST_FIELDS,
            });
        }
        let bytes = fields
            .iter()
            .map(|(n, v)| n.len().saturating_add(v.len()))
            .fold(0, usize::saturating_add);
        if bytes > MAX_POST_FORM_BYTES {
            return Err(Error::TooMany {
                what: "bytes of POST form fields",
                limit: MAX_POST_FORM_BYTES,
            });
        }
        Ok(PresignedPost {
            url,
            fields,
            expires_at: expiration,
            policy,
        })
    }
}

/// Fields S3 matches exactly (besides the auth fields and `bucket`, which the builder writes).
const EXACT_ONLY: [&str; 2] = ["success_action_status", "tagging"];

fn check_field_name(name: &str) -> Result<(), &'static str> {
    if name.len() > MAX_POST_FIELD_NAME_LEN {
        return Err("the field name is too long");
    }
    if !is_token(name) {
        return Err("a field name must be a non-empty RFC 9110 token");
    }
    if RESERVED_FIELDS.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err("the builder writes this field itself");
    }
    if starts_with_ignore_case(name, "x-ignore-") {
        return Err(
            "x-ignore-* fields are not covered by the policy: add them to the page instead",
        );
    }
    Ok(())
}

pub(crate) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The form action: the bucket's URL, `https://bucket.host/` virtual-hosted and
/// `https://host/bucket` path style (botocore's shapes).
fn action_url(endpoint: &Endpoint, bucket: &Bucket<'_>) -> Result<String, Error> {
    let style = endpoint.effective_style(bucket)?;
    let (scheme, authority, prefix) = (
        endpoint.scheme(),
        endpoint.authority(),
        endpoint.path_prefix(),
    );
    Ok(if style == AddressingStyle::Virtual {
        format!("{scheme}://{bucket}.{authority}{prefix}/")
    } else {
        format!("{scheme}://{authority}{prefix}/{bucket}")
    })
}

/// A signed browser upload form: where to post it and the fields to send before the file, as
/// boto3's `generate_presigned_post` returns them.
///
/// ```
/// use presign::post::{PostKey, PresignedPost};
/// use presign::s3::{Bucket, Endpoint};
/// use presign::{Credentials, Expiry, Signer, SigningTime};
///
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")?;
/// let signer = Signer::new(creds, "us-east-1", "s3")?;
/// let endpoint = Endpoint::aws("us-east-1")?;
/// let bucket = Bucket::new("examplebucket")?;
/// let form = PresignedPost::builder(&endpoint, &bucket, PostKey::with_filename("uploads/"))
///     .content_length_range(1, 10 << 20)
///     .content_type_starts_with("image/")
///     .expires_in("1h".parse::<Expiry>()?)
///     .sign(&signer, SigningTime::parse_amz_date("20260101T120000Z")?)?;
///
/// assert_eq!(form.url(), "https://examplebucket.s3.amazonaws.com/");
/// let names: Vec<&str> = form.fields().map(|(n, _)| n).collect();
/// assert_eq!(names, ["key", "Content-Type", "x-amz-algorithm", "x-amz-credential",
///                    "x-amz-date", "policy", "x-amz-signature"]);
/// assert_eq!(form.field("KEY"), Some("uploads/${filename}"));
/// assert!(form.to_html().ends_with(
///     "<input type=\"file\" name=\"file\">\n  <button type=\"submit\">Upload</button>\n</form>\n"));
/// # Ok::<(), presign::Error>(())
/// ```
#[derive(Clone)]
pub struct PresignedPost {
    url: String,
    fields: Vec<(String, String)>,
    expires_at: SigningTime,
    policy: PolicyDocument,
}

impl PresignedPost {
    /// A builder for a form uploading to `bucket` on `endpoint` under `key`.
    pub fn builder<'a>(
        endpoint: &'a Endpoint,
        bucket: &Bucket<'a>,
        key: PostKey,
    ) -> PresignedPostBuilder<'a> {
        PresignedPostBuilder {
            endpoint,
            bucket: *bucket,
            key,
            expiration: Expiration::In(Expiry::from_secs(3600).unwrap_or(Expiry::MAX)),
            length: None,
            rules: Vec::new(),
        }
    }

    /// The form action: the bucket's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The fields, in order: `key`, the fields asked for, `x-amz-algorithm`,
    /// `x-amz-credential`, `x-amz-date`, `x-amz-security-token` (temporary credentials),
    /// `policy`, `x-amz-signature`. The file goes after them.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of a field, its name compared ignoring ASCII case.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// When the policy expires.
    pub fn expires_at(&self) -> SigningTime {
        self.expires_at
    }

    /// The signed policy.
    pub fn policy(&self) -> &PolicyDocument {
        &self.policy
    }

    /// A minimal HTML form: every field as a hidden input, then the file input last, then a
    /// submit button without a name (browsers send no field for it). Values are escaped for
    /// HTML attributes.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<form action=\"{}\" method=\"post\" enctype=\"multipart/form-data\">",
            HtmlAttr(&self.url)
        );
        for (name, value) in &self.fields {
            let _ = writeln!(
                out,
                "  <input type=\"hidden\" name=\"{}\" value=\"{}\">",
                HtmlAttr(name),
                HtmlAttr(value)
            );
        }
        out.push_str("  <input type=\"file\" name=\"file\">\n");
        out.push_str("  <button type=\"submit\">Upload</button>\n</form>\n");
        out
    }
}

impl fmt::Debug for PresignedPost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<(&str, &str)> = self
            .fields()
            .map(|(n, v)| {
                if n.eq_ignore_ascii_case("x-amz-security-token") {
                    (n, "<redacted>")
                } else {
                    (n, v)
                }
            })
            .collect();
        f.debug_struct("PresignedPost")
            .field("url", &self.url)
            .field("fields", &fields)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Text escaped for a double-quoted HTML attribute.
pub(crate) struct HtmlAttr<'a>(pub(crate) &'a str);

impl fmt::Display for HtmlAttr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Credentials;

    fn signer() -> Signer {
        let creds = Credentials::new("AKIDEXAMPLE", "secret").unwrap();
        Signer::new(creds, "us-east-1", "s3").unwrap()
    }

    fn time() -> SigningTime {
        SigningTime::parse_amz_date("20260101T000000Z").unwrap()
    }

    #[test]
    fn html_escapes_values() {
        assert_eq!(
            HtmlAttr(r#"<a href="x">&'"#).to_string(),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn refuses_bad_inputs() {
        let endpoint = Endpoint::aws("us-east-1").unwrap();
        let bucket = Bucket::new("examplebucket").unwrap();
        let base = || PresignedPost::builder(&endpoint, &bucket, PostKey::exact("a.txt"));
        let err = |b: PresignedPostBuilder<'_>| b.sign(&signer(), time()).unwrap_err();
        assert!(matches!(
            err(base().field("x-amz-date", "1")),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().field("Key", "1")),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().acl("a").field("ACL", "b")),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().field_starts_with("tagging", "")),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().success_action_status(302)),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().metadata("a", "x\ny")),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().field("a b", "x")),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().field("x-ignore-a", "x")),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().content_length_range(2, 1)),
            Error::InvalidParameter { .. }
        ));
        assert!(matches!(
            err(base().expires_at(time())),
            Error::InvalidExpiry(_)
        ));
        assert!(matches!(
            err(base().expires_at(time().add_seconds(604_801))),
            Error::InvalidExpiry(_)
        ));
        assert!(matches!(
            err(base().field("x-amz-meta-big", "x".repeat(20 * 1024))),
            Error::TooMany { .. }
        ));
        let key = |k: PostKey| {
            PresignedPost::builder(&endpoint, &bucket, k)
                .sign(&signer(), time())
                .map(|_| ())
        };
        assert!(key(PostKey::exact("a/${filename}")).is_err());
        assert!(key(PostKey::exact("")).is_err());
        assert!(key(PostKey::starts_with("")).is_err());
        assert!(key(PostKey::with_filename("")).is_ok());
        assert!(key(PostKey::with_filename("a/${filename}/")).is_err());
        let eu = Endpoint::aws("eu-west-1").unwrap();
        assert!(
            PresignedPost::builder(&eu, &bucket, PostKey::exact("a"))
                .sign(&signer(), time())
                .is_err()
        );
    }

    #[test]
    fn action_urls() {
        let bucket = Bucket::new("examplebucket").unwrap();
        let url = |e: &str| action_url(&Endpoint::parse(e).unwrap(), &bucket).unwrap();
        assert_eq!(
            url("http://127.0.0.1:9000"),
            "http://127.0.0.1:9000/examplebucket"
        );
        assert_eq!(
            url("https://s.example.com/p"),
            "https://s.example.com/p/examplebucket"
        );
        let virtual_host = Endpoint::parse("https://s.example.com:8443")
            .unwrap()
            .with_addressing_style(AddressingStyle::Virtual);
        assert_eq!(
            action_url(&virtual_host, &bucket).unwrap(),
            "https://examplebucket.s.example.com:8443/"
        );
    }
}
