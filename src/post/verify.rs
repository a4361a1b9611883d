//! Verifying a browser POST form against its signed policy.

use std::borrow::Cow;

use hmac::Mac;
use time::Date;

use crate::limits::{
    MAX_POST_FIELD_NAME_LEN, MAX_POST_FIELDS, MAX_POST_FORM_BYTES, MAX_POST_POLICY_LEN,
    MAX_SESSION_TOKEN_LEN,
};
use crate::s3::validate_key;
use crate::string_to_sign::ALGORITHM;
use crate::verify::{CredentialStore, Verifier, VerifyError};
use crate::{MAX_EXPIRY_SECS, SigningTime};

use super::FILENAME_VARIABLE;
use super::builder::starts_with_ignore_case;
use super::policy::{Condition, PolicyDocument};

/// A POST form as received: the bucket the request was routed to, the fields before the file
/// part, in order, and the file part's file name.
///
/// The bucket comes from the request target (`POST /bucket` path style, or the host of a
/// virtual-hosted request), never from a form field. Stop collecting fields at the part
/// named `file`: S3 ignores the fields after it, and so must the server (they are not
/// verified).
///
/// `file_name` is the `filename` parameter of the file part's `Content-Disposition`, as sent;
/// leave it unset when the part has none. It replaces `${filename}` in the fields (S3 keeps
/// `${filename}` as it is when there is no file name).
#[derive(Clone, Copy, Debug)]
pub struct IncomingPost<'a, N = &'a str, V = &'a str> {
    bucket: &'a str,
    fields: &'a [(N, V)],
    file_name: Option<&'a str>,
}

impl<'a, N: AsRef<str>, V: AsRef<str>> IncomingPost<'a, N, V> {
    /// The bucket of the request target and the form fields before the file, in order.
    pub fn new(bucket: &'a str, fields: &'a [(N, V)]) -> Self {
        IncomingPost {
            bucket,
            fields,
            file_name: None,
        }
    }

    /// The file part's `filename`.
    pub fn with_file_name(mut self, file_name: &'a str) -> Self {
        self.file_name = Some(file_name);
        self
    }
}

/// Fields that carry the signature or the policy rather than the object (read raw: never
/// expanded, never returned as fields to store).
const AUTH_FIELDS: [&str; 6] = [
    "policy",
    "x-amz-signature",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-security-token",
];

/// Fields S3 only matches exactly: a `starts-with` on them is refused.
const EXACT_ONLY: [&str; 6] = [
    "bucket",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "tagging",
    "success_action_status",
];

/// The form fields after the bounds, name and duplicate checks.
struct Form<'f> {
    fields: Vec<(&'f str, &'f str)>,
}

impl<'f> Form<'f> {
    fn read<N: AsRef<str>, V: AsRef<str>>(fields: &'f [(N, V)]) -> Result<Self, VerifyError> {
        let malformed = VerifyError::MalformedPostRequest;
        if fields.len() > MAX_POST_FIELDS {
            return Err(malformed(format!(
                "more than {MAX_POST_FIELDS} fields precede the file"
            )));
        }
        let bytes = fields.iter().fold(0usize, |acc, (n, v)| {
            acc.saturating_add(n.as_ref().len())
                .saturating_add(v.as_ref().len())
        });
        if bytes > MAX_POST_FORM_BYTES {
            return Err(malformed(
                "Your POST request fields preceding the upload file were too large.".into(),
            ));
        }
        let mut out: Vec<(&str, &str)> = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            let (name, value) = (name.as_ref(), value.as_ref());
            if name.is_empty() || name.len() > MAX_POST_FIELD_NAME_LEN {
                return Err(malformed(format!(
                    "a field name must have 1 to {MAX_POST_FIELD_NAME_LEN} bytes"
                )));
            }
            if name.eq_ignore_ascii_case("file") {
                return Err(malformed(
                    "the file must be the last part of the form, not a field before it".into(),
                ));
            }
            // Names are case-insensitive, so `key` and `KEY` are the same field given twice:
            // which one a server would store is exactly the ambiguity to refuse.
            if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(malformed(format!(
                    "the field '{name}' appears more than once"
                )));
            }
            out.push((name, value));
        }
        Ok(Form { fields: out })
    }

    fn get(&self, name: &str) -> Option<&'f str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

fn missing_field(name: &str) -> VerifyError {
    VerifyError::InvalidArgument(format!(
        "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
    ))
}

fn is_auth_field(name: &str) -> bool {
    AUTH_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// Fields no condition needs to cover (AWS: "except `x-amz-signature`, `file`, `policy`, and
/// field names that have an `x-ignore-` prefix").
fn is_exempt(name: &str) -> bool {
    name.eq_ignore_ascii_case("x-amz-signature")
        || name.eq_ignore_ascii_case("policy")
        || name.eq_ignore_ascii_case("file")
        || starts_with_ignore_case(name, "x-ignore-")
}

/// What `${filename}` becomes: the text after the last `/` or `\` of the file name.
fn basename(file_name: &str) -> &str {
    file_name.rsplit(['/', '\\']).next().unwrap_or(file_name)
}

fn policy_violation(message: String) -> VerifyError {
    VerifyError::PolicyViolation(message)
}

impl<S: CredentialStore> Verifier<S> {
    /// Verifies a browser POST form (the fields before the file) at `now`, before the file is
    /// read: see [`crate::post`] for the checks and their order. On success, check the file
    /// against the policy's `content-length-range` with [`VerifiedPost::length_checker`] as it
    /// streams, and store nothing before that passes.
    ///
    /// A form without any auth field (no `policy`, `x-amz-signature`, `x-amz-credential`, …)
    /// is [`VerifyError::MissingAuthentication`]; Signature Version 2 forms are
    /// [`VerifyError::UnsupportedMechanism`]. Verification is authentication only: authorize
    /// the upload (bucket, key) for the returned access key yourself.
    pub fn verify_post<N: AsRef<str>, V: AsRef<str>>(
        &self,
        post: &IncomingPost<'_, N, V>,
        now: SigningTime,
    ) -> Result<VerifiedPost, VerifyError> {
        let form = Form::read(post.fields)?;

        // Auth material: all of it, or none (anonymous), never a part.
        if form.get("AWSAccessKeyId").is_some() || form.get("signature").is_some() {
            return Err(VerifyError::UnsupportedMechanism);
        }
        let [policy, algorithm, credential, amz_date, signature] = [
            "policy",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-signature",
        ]
        .map(|name| form.get(name));
        if [policy, algorithm, credential, amz_date, signature]
            .iter()
            .all(Option::is_none)
        {
            return Err(VerifyError::MissingAuthentication);
        }
        let algorithm = algorithm.ok_or_else(|| missing_field("X-Amz-Algorithm"))?;
        let credential = credential.ok_or_else(|| missing_field("X-Amz-Credential"))?;
        let amz_date = amz_date.ok_or_else(|| missing_field("X-Amz-Date"))?;
        let signature = signature.ok_or_else(|| missing_field("X-Amz-Signature"))?;
        let policy = policy.ok_or_else(|| missing_field("Policy"))?;
        let key_template = form.get("key").ok_or_else(|| missing_field("key"))?;
        if algorithm != ALGORITHM {
            return Err(VerifyError::UnsupportedMechanism);
        }
        if policy.len() > MAX_POST_POLICY_LEN {
            return Err(VerifyError::MalformedPostRequest(format!(
                "the policy is longer than {MAX_POST_POLICY_LEN} bytes"
            )));
        }
        let session_token = form.get("x-amz-security-token");
        if session_token.is_some_and(|t| t.is_empty() || t.len() > MAX_SESSION_TOKEN_LEN) {
            return Err(VerifyError::InvalidToken);
        }

        // Time: no clock-skew rule on x-amz-date (the form lives until the policy expires),
        // but not before x-amz-date − 15 min, as a presigned URL, nor past the signature's
        // 7-day life (the configured maximum).
        let signing_time = SigningTime::parse_amz_date(amz_date).map_err(|_| {
            VerifyError::InvalidArgument(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"".into(),
            )
        })?;
        if now < signing_time.add_seconds(-900) {
            return Err(VerifyError::NotYetValid);
        }
        let max_age = self.config().max_expires_secs.min(MAX_EXPIRY_SECS);
        let last_valid = signing_time.add_seconds(i64::from(max_age));
        if now > last_valid {
            return Err(VerifyError::Expired {
                expires_at: last_valid,
                now,
            });
        }

        // The credential and the signature over the policy exactly as sent (not re-encoded).
        let auth = self.authenticate_scope(
            credential,
            signing_time,
            session_token,
            now,
            &VerifyError::InvalidArgument,
        )?;
        let mut provided = [0u8; 32];
        let well_formed = signature.len() == 64
            && signature
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && hex::decode_to_slice(signature, &mut provided).is_ok();
        let mut mac = auth.signing_key.mac();
        mac.update(policy.as_bytes());
        // `verify_slice` compares in constant time.
        if !well_formed || mac.verify_slice(&provided).is_err() {
            return Err(VerifyError::SignatureDoesNotMatch {
                access_key_id: auth.access_key_id,
                string_to_sign: policy.to_owned(),
                canonical_request: String::new(),
                signature_provided: signature.to_owned(),
            });
        }

        // The policy: strict JSON, not expired.
        let document = PolicyDocument::from_base64(policy)?;
        if now.to_offset_date_time() >= document.expiration() {
            return Err(policy_violation("Policy expired.".into()));
        }

        // The policy must bind the bucket and the auth fields with exact matches: otherwise a
        // policy signed for one bucket, day or key would serve for another.
        for required in [
            "bucket",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
        ] {
            let bound = document.conditions().iter().any(
                |c| matches!(c, Condition::Eq { field, .. } if field.eq_ignore_ascii_case(required)),
            );
            if !bound {
                return Err(policy_violation(format!(
                    "Policy missing condition: {required} must be bound by an exact-match condition."
                )));
            }
        }
        for c in document.conditions() {
            if let Condition::StartsWith { field, .. } = c {
                if EXACT_ONLY.iter().any(|f| f.eq_ignore_ascii_case(field)) {
                    return Err(policy_violation(format!(
                        "Policy Condition failed: {c} ({field} only supports exact matching)"
                    )));
                }
            }
        }

        // `${filename}` is expanded in every field but the auth ones before any matching
        // (AWS: "All variables within the form are expanded prior to validating the POST
        // policy").
        let file_base = post.file_name.map(basename);
        if let Some(base) = file_base {
            if key_template.contains(FILENAME_VARIABLE) && matches!(base, "" | "." | "..") {
                return Err(VerifyError::InvalidArgument(format!(
                    "the file name {:?} leaves nothing usable for ${{filename}} in the key",
                    post.file_name.unwrap_or_default()
                )));
            }
        }
        let values: Vec<(&str, Cow<'_, str>)> = form
            .fields
            .iter()
            .map(|&(name, value)| {
                let value = match file_base {
                    Some(base) if !is_auth_field(name) && value.contains(FILENAME_VARIABLE) => {
                        Cow::Owned(value.replace(FILENAME_VARIABLE, base))
                    }
                    _ => Cow::Borrowed(value),
                };
                (name, value)
            })
            .collect();
        let value_of = |field: &str| -> Option<&str> {
            // `bucket` is the bucket the request was sent to, whatever a form field says.
            if field.eq_ignore_ascii_case("bucket") {
                return Some(post.bucket);
            }
            values
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(field))
                .map(|(_, v)| v.as_ref())
        };
        if let Some(claimed) = form.get("bucket") {
            if claimed != post.bucket {
                return Err(policy_violation(format!(
                    "the bucket field {claimed:?} is not the bucket the form was sent to"
                )));
            }
        }

        // Every condition holds; a condition on a field the form lacks fails.
        let mut length: Option<(u64, u64)> = None;
        for c in document.conditions() {
            match c {
                Condition::ContentLengthRange { min, max } => {
                    length = Some(match length {
                        None => (*min, *max),
                        Some((lo, hi)) => (lo.max(*min), hi.min(*max)),
                    });
                }
                _ => {
                    if !c.matches(c.field().and_then(value_of)) {
                        return Err(policy_violation(format!("Policy Condition failed: {c}")));
                    }
                }
            }
        }

        // Every field is covered by a condition.
        let extra: Vec<&str> = form
            .fields
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| {
                !is_exempt(n)
                    && !document
                        .conditions()
                        .iter()
                        .any(|c| c.field().is_some_and(|f| f.eq_ignore_ascii_case(n)))
            })
            .collect();
        if !extra.is_empty() {
            return Err(policy_violation(format!(
                "Extra input fields: {}",
                extra.join(", ")
            )));
        }

        let key = value_of("key").unwrap_or(key_template).to_owned();
        validate_key(&key).map_err(|e| VerifyError::InvalidArgument(format!("{e}")))?;

        // The first instant the form is refused: the policy's expiration (rounded up to the
        // second), the end of the signature's life, or the credentials' expiry.
        let expiration = document.expiration();
        let mut expires_at = SigningTime::from_offset_date_time(expiration)
            .map(|t| {
                if expiration.nanosecond() > 0 {
                    t.add_seconds(1)
                } else {
                    t
                }
            })
            .unwrap_or(last_valid);
        expires_at = expires_at.min(last_valid.add_seconds(1));
        if let Some(e) = auth.credential_expires_at {
            expires_at = expires_at.min(e);
        }

        let fields = values
            .into_iter()
            .filter(|(n, _)| {
                !is_auth_field(n)
                    && !n.eq_ignore_ascii_case("key")
                    && !n.eq_ignore_ascii_case("bucket")
                    && !is_exempt(n)
            })
            .map(|(n, v)| (n.to_owned(), v.into_owned()))
            .collect();
        Ok(VerifiedPost {
            access_key_id: auth.access_key_id,
            scope: auth.scope,
            date: auth.date,
            region: auth.region,
            service: auth.service,
            signing_time,
            expires_at,
            session_token: session_token.map(str::to_owned),
            bucket: post.bucket.to_owned(),
            key,
            fields,
            length,
        })
    }
}

/// A POST form whose policy and signature verified, and every condition on its fields held.
///
/// The file has not been checked yet: feed it to [`length_checker`](Self::length_checker) as
/// it arrives (or give its size to [`check_file_size`](Self::check_file_size)) and store
/// nothing before that passes.
#[derive(Clone)]
pub struct VerifiedPost {
    access_key_id: String,
    scope: String,
    date: Date,
    region: String,
    service: String,
    signing_time: SigningTime,
    expires_at: SigningTime,
    session_token: Option<String>,
    bucket: String,
    key: String,
    fields: Vec<(String, String)>,
    length: Option<(u64, u64)>,
}

impl VerifiedPost {
    /// The access key id whose secret verified the signature.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    pub fn credential_scope(&self) -> &str {
        &self.scope
    }

    /// The date of the credential scope.
    pub fn scope_date(&self) -> Date {
        self.date
    }

    /// The region of the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service of the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// When the form was signed (`x-amz-date`).
    pub fn signing_time(&self) -> SigningTime {
        self.signing_time
    }

    /// The first instant the form is refused: the policy's expiration, the end of the
    /// signature's 7-day life, or the expiry of temporary credentials, whichever comes first.
    pub fn expires_at(&self) -> SigningTime {
        self.expires_at
    }

    /// The session token the form carried (temporary credentials).
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// The bucket (the one the request was sent to).
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key, `${filename}` expanded.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The fields to apply to the object, in form order, names as sent and `${filename}`
    /// expanded: `Content-Type`, `x-amz-meta-*`, `acl`, `tagging`, `success_action_status`, …
    /// Every one was covered by the policy. Not included: `key`, `bucket`, the auth fields
    /// (`policy`, `x-amz-*` signature fields) and the unverified `x-ignore-*` ones.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// A field to store, its name compared ignoring ASCII case.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.field("Content-Type")
    }

    /// The canned ACL (`acl`).
    pub fn acl(&self) -> Option<&str> {
        self.field("acl")
    }

    /// `tagging`, the `<Tagging>` XML document.
    pub fn tagging(&self) -> Option<&str> {
        self.field("tagging")
    }

    /// `success_action_redirect` (or the deprecated `redirect`).
    pub fn success_action_redirect(&self) -> Option<&str> {
        self.field("success_action_redirect")
            .or_else(|| self.field("redirect"))
    }

    /// The status to answer with: `success_action_status` when it is 200 or 201, else 204
    /// (S3 answers 204 for a missing or invalid value).
    pub fn success_action_status(&self) -> u16 {
        match self.field("success_action_status") {
            Some("200") => 200,
            Some("201") => 201,
            _ => 204,
        }
    }

    /// User metadata: the `x-amz-meta-*` fields, names lowercased without the prefix (S3
    /// stores them lowercase).
    pub fn metadata(&self) -> impl Iterator<Item = (String, &str)> {
        self.fields
            .iter()
            .filter(|(n, _)| starts_with_ignore_case(n, "x-amz-meta-"))
            .map(|(n, v)| {
                (
                    n.get(11..).unwrap_or_default().to_ascii_lowercase(),
                    v.as_str(),
                )
            })
    }

    /// The file size the policy allows, `(min, max)` inclusive (every `content-length-range`
    /// condition applied); `None` when the policy has none.
    pub fn content_length_range(&self) -> Option<(u64, u64)> {
        self.length
    }

    /// A checker for the file's size, to feed as the file streams in.
    pub fn length_checker(&self) -> FileLengthChecker {
        let (min, max) = self.length.unwrap_or((0, u64::MAX));
        FileLengthChecker { min, max, seen: 0 }
    }

    /// Checks a file size known in advance against `content-length-range`.
    pub fn check_file_size(&self, size: u64) -> Result<(), VerifyError> {
        let mut checker = self.length_checker();
        checker.add(size)?;
        checker.finish().map(|_| ())
    }
}

impl core::fmt::Debug for VerifiedPost {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedPost")
            .field("access_key_id", &self.access_key_id)
            .field("credential_scope", &self.scope)
            .field("signing_time", &self.signing_time)
            .field("expires_at", &self.expires_at)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("fields", &self.fields)
            .field("content_length_range", &self.length)
            .finish()
    }
}

/// Checks an uploaded file's size against the policy's `content-length-range` as it streams.
///
/// [`update`](Self::update) fails as soon as the file is too large, so the server can stop
/// reading; [`finish`](Self::finish) checks the minimum at the end.
#[derive(Clone, Debug)]
pub struct FileLengthChecker {
    min: u64,
    max: u64,
    seen: u64,
}

impl FileLengthChecker {
    /// Feeds the next bytes of the file; `EntityTooLarge` once past the maximum.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), VerifyError> {
        self.add(u64::try_from(chunk.len()).unwrap_or(u64::MAX))
    }

    /// Counts `n` more bytes of the file; `EntityTooLarge` once past the maximum.
    pub fn add(&mut self, n: u64) -> Result<(), VerifyError> {
        self.seen = self.seen.saturating_add(n);
        if self.seen > self.max {
            return Err(VerifyError::EntityTooLarge {
                max_size_allowed: self.max,
                proposed_size: self.seen,
            });
        }
        Ok(())
    }

    /// Bytes seen so far.
    pub fn bytes_seen(&self) -> u64 {
        self.seen
    }

    /// The file ended: its size, or `EntityTooSmall` below the minimum.
    pub fn finish(self) -> Result<u64, VerifyError> {
        if self.seen < self.min {
            return Err(VerifyError::EntityTooSmall {
                min_size_allowed: self.min,
                proposed_size: self.seen,
            });
        }
        Ok(self.seen)
    }
}
