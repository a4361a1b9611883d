//! Verification errors: each knows its S3 error code, HTTP status and message, and renders the
//! S3 XML error body.

use core::fmt::Write as _;

use crate::SigningTime;

/// Why a request was not accepted.
///
/// [`code`](VerifyError::code), [`status`](VerifyError::status) and
/// [`to_xml`](VerifyError::to_xml) give what an S3-compatible server answers.
/// [`VerifyError::SignatureDoesNotMatch`] carries the canonical request and string to sign the
/// server computed: they may contain the session token, so [`to_xml`](VerifyError::to_xml)
/// leaves them out unless asked ([`to_xml_with_diagnostics`](VerifyError::to_xml_with_diagnostics)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No authentication material at all (anonymous request).
    #[error("Anonymous requests are not allowed")]
    MissingAuthentication,
    /// Both an Authorization header and presigned query parameters (or two of anything).
    #[error(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"
    )]
    MultipleAuthMechanisms,
    /// A mechanism this crate does not accept: Signature Version 2, SigV4a, another algorithm.
    #[error(
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
    )]
    UnsupportedMechanism,
    /// A malformed or missing presigned query parameter.
    #[error("{0}")]
    AuthorizationQueryParametersError(String),
    /// A malformed Authorization header.
    #[error("{0}")]
    AuthorizationHeaderMalformed(String),
    /// The credential scope names a region this server does not accept.
    #[error("the region '{got}' is wrong; expecting '{expected}'")]
    WrongRegion {
        /// The region in the credential scope.
        got: String,
        /// The region(s) accepted.
        expected: String,
        /// Whether the request was presigned (changes the S3 error code).
        presigned: bool,
    },
    /// The signature does not match the one the server computed.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    )]
    SignatureDoesNotMatch {
        /// The access key id the request named.
        access_key_id: String,
        /// The string to sign the server computed.
        string_to_sign: String,
        /// The canonical request the server computed.
        canonical_request: String,
        /// The signature the request carried.
        signature_provided: String,
    },
    /// The access key id is unknown (or was revoked).
    #[error("The AWS Access Key Id you provided does not exist in our records.")]
    InvalidAccessKeyId {
        /// The access key id the request named.
        access_key_id: String,
    },
    /// The session token is missing, unexpected or wrong.
    #[error("The provided token is malformed or otherwise invalid.")]
    InvalidToken,
    /// The temporary credentials have expired.
    #[error("The provided token has expired.")]
    ExpiredToken,
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires`.
    #[error("Request has expired")]
    Expired {
        /// When it expired.
        expires_at: SigningTime,
        /// The server time.
        now: SigningTime,
    },
    /// A presigned URL used more than 15 minutes before its `X-Amz-Date`.
    #[error("Request is not yet valid")]
    NotYetValid,
    /// A header-signed request whose date is too far from the server time.
    #[error("The difference between the request time and the server's time is too large.")]
    RequestTimeTooSkewed {
        /// The request's time.
        request_time: SigningTime,
        /// The server time.
        server_time: SigningTime,
    },
    /// Header auth without a usable `x-amz-date` or `Date` header.
    #[error("AWS authentication requires a valid Date or x-amz-date header")]
    MissingDate,
    /// Headers that must be signed were not (every `x-amz-*` header, `host`, configured ones).
    #[error("There were headers present in the request which were not signed")]
    HeadersNotSigned {
        /// The headers, lowercase, comma-separated in the XML body.
        headers: Vec<String>,
    },
    /// A required header is missing (`x-amz-content-sha256` for header auth).
    #[error("Missing required header for this request: {0}")]
    MissingHeader(&'static str),
    /// An argument has an invalid value (`x-amz-content-sha256`, `content-length`, …).
    #[error("{0}")]
    InvalidArgument(String),
    /// More headers, query parameters or bytes than [`crate::limits`] allows.
    #[error("Your request header section exceeds the maximum allowed size: {0}")]
    RequestTooLarge(String),
    /// The body's SHA-256 differs from the signed `x-amz-content-sha256`.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch {
        /// The hash the client signed (hex).
        client_computed: String,
        /// The hash of the body received (hex).
        server_computed: String,
    },
    /// The body is shorter or longer than declared.
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header.")]
    IncompleteBody {
        /// Bytes declared.
        expected: u64,
        /// Bytes received.
        provided: u64,
    },
    /// A declared length header (`x-amz-decoded-content-length`) is missing or unreadable.
    #[error("You must provide the Content-Length HTTP header.")]
    MissingContentLength,
    /// A POST form or its file violates the policy.
    #[error("Invalid according to Policy: {0}")]
    PolicyViolation(String),
    /// A POST form whose policy document cannot be read.
    #[error("Invalid Policy: {0}")]
    InvalidPolicyDocument(String),
    /// A malformed POST form (missing or duplicated field, field after the file, …).
    #[error("{0}")]
    MalformedPostRequest(String),
    /// The uploaded file is larger than the policy's `content-length-range` allows.
    #[error("Your proposed upload exceeds the maximum allowed size")]
    EntityTooLarge {
        /// The maximum size allowed.
        max_size_allowed: u64,
        /// The size received (at least).
        proposed_size: u64,
    },
    /// The uploaded file is smaller than the policy's `content-length-range` allows.
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall {
        /// The minimum size allowed.
        min_size_allowed: u64,
        /// The size received.
        proposed_size: u64,
    },
    /// An aws-chunked chunk signature or trailer signature does not match.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    )]
    ChunkSignatureDoesNotMatch {
        /// The chunk (or trailer) string to sign the server computed.
        string_to_sign: String,
        /// The signature the chunk carried.
        signature_provided: String,
    },
    /// A non-final aws-chunked chunk smaller than 8 KiB (strict mode).
    #[error("Only the last chunk is allowed to have a size less than 8192 bytes")]
    InvalidChunkSize,
    /// An aws-chunked body that is not well formed.
    #[error("{0}")]
    MalformedChunkedBody(String),
    /// Trailers that are malformed, undeclared or missing.
    #[error(
        "The request contained trailing data that was not well-formed or did not conform to our published schema. {0}"
    )]
    MalformedTrailer(String),
    /// An `x-amz-trailer` value this crate does not support.
    #[error("The value specified in the x-amz-trailer header is not supported")]
    UnsupportedTrailer,
    /// A checksum (`x-amz-checksum-*`) does not match the body.
    #[error("The {algorithm} you specified did not match the calculated checksum.")]
    BadDigest {
        /// The checksum header name.
        algorithm: String,
    },
}

impl VerifyError {
    /// The S3 error code (`SignatureDoesNotMatch`, `AccessDenied`, …).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingAuthentication
            | VerifyError::Expired { .. }
            | VerifyError::NotYetValid
            | VerifyError::MissingDate
            | VerifyError::HeadersNotSigned { .. } => "AccessDenied",
            VerifyError::MultipleAuthMechanisms | VerifyError::InvalidArgument(_) => {
                "InvalidArgument"
            }
            VerifyError::UnsupportedMechanism | VerifyError::MissingHeader(_) => "InvalidRequest",
            VerifyError::AuthorizationQueryParametersError(_) => {
                "AuthorizationQueryParametersError"
            }
            VerifyError::AuthorizationHeaderMalformed(_) => "AuthorizationHeaderMalformed",
            VerifyError::WrongRegion { presigned, .. } => {
                if *presigned {
                    "AuthorizationQueryParametersError"
                } else {
                    "AuthorizationHeaderMalformed"
                }
            }
            VerifyError::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
            VerifyError::InvalidAccessKeyId { .. } => "InvalidAccessKeyId",
            VerifyError::InvalidToken => "InvalidToken",
            VerifyError::ExpiredToken => "ExpiredToken",
            VerifyError::RequestTimeTooSkewed { .. } => "RequestTimeTooSkewed",
            VerifyError::RequestTooLarge(_) => "RequestHeaderSectionTooLarge",
            VerifyError::ContentSha256Mismatch { .. } => "XAmzContentSHA256Mismatch",
            VerifyError::IncompleteBody { .. } => "IncompleteBody",
            VerifyError::MissingContentLength => "MissingContentLength",
            VerifyError::PolicyViolation(_) => "AccessDenied",
            VerifyError::InvalidPolicyDocument(_) => "InvalidPolicyDocument",
            VerifyError::MalformedPostRequest(_) => "MalformedPOSTRequest",
            VerifyError::EntityTooLarge { .. } => "EntityTooLarge",
            VerifyError::EntityTooSmall { .. } => "EntityTooSmall",
            VerifyError::ChunkSignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
            VerifyError::InvalidChunkSize => "InvalidChunkSizeError",
            VerifyError::MalformedChunkedBody(_) => "IncompleteBody",
            VerifyError::MalformedTrailer(_) => "MalformedTrailerError",
            VerifyError::UnsupportedTrailer => "InvalidRequest",
            VerifyError::BadDigest { .. } => "BadDigest",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn status(&self) -> u16 {
        match self {
            VerifyError::MissingAuthentication
            | VerifyError::Expired { .. }
            | VerifyError::NotYetValid
            | VerifyError::MissingDate
            | VerifyError::HeadersNotSigned { .. }
            | VerifyError::SignatureDoesNotMatch { .. }
            | VerifyError::InvalidAccessKeyId { .. }
            | VerifyError::RequestTimeTooSkewed { .. }
            | VerifyError::PolicyViolation(_)
            | VerifyError::ChunkSignatureDoesNotMatch { .. }
            | VerifyError::InvalidChunkSize => 403,
            VerifyError::MissingContentLength => 411,
            VerifyError::MultipleAuthMechanisms
            | VerifyError::UnsupportedMechanism
            | VerifyError::AuthorizationQueryParametersError(_)
            | VerifyError::AuthorizationHeaderMalformed(_)
            | VerifyError::WrongRegion { .. }
            | VerifyError::InvalidToken
            | VerifyError::ExpiredToken
            | VerifyError::MissingHeader(_)
            | VerifyError::InvalidArgument(_)
            | VerifyError::RequestTooLarge(_)
            | VerifyError::ContentSha256Mismatch { .. }
            | VerifyError::IncompleteBody { .. }
            | VerifyError::InvalidPolicyDocument(_)
            | VerifyError::MalformedPostRequest(_)
            | VerifyError::EntityTooLarge { .. }
            | VerifyError::EntityTooSmall { .. }
            | VerifyError::MalformedChunkedBody(_)
            | VerifyError::MalformedTrailer(_)
            | VerifyError::UnsupportedTrailer
            | VerifyError::BadDigest { .. } => 400,
        }
    }

    /// The message of the XML body.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The S3 XML error body, without the signature diagnostics.
    pub fn to_xml(&self, request_id: &str) -> String {
        self.render(request_id, false)
    }

    /// The S3 XML error body with, for `SignatureDoesNotMatch`, the string to sign and
    /// canonical request (and their bytes) as AWS returns them. They may contain the session
    /// token: only echo them to the client that sent the request.
    pub fn to_xml_with_diagnostics(&self, request_id: &str) -> String {
        self.render(request_id, true)
    }

    fn render(&self, request_id: &str, diagnostics: bool) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        element(&mut out, "Code", self.code());
        element(&mut out, "Message", &self.message());
        match self {
            VerifyError::SignatureDoesNotMatch {
                access_key_id,
                string_to_sign,
                canonical_request,
                signature_provided,
            } => {
                element(&mut out, "AWSAccessKeyId", access_key_id);
                if diagnostics {
                    element(&mut out, "StringToSign", string_to_sign);
                    element(&mut out, "SignatureProvided", signature_provided);
                    element(&mut out, "StringToSignBytes", &spaced_hex(string_to_sign));
                    // A POST form signs its policy directly: there is no canonical request.
                    if !canonical_request.is_empty() {
                        element(&mut out, "CanonicalRequest", canonical_request);
                        element(
                            &mut out,
                            "CanonicalRequestBytes",
                            &spaced_hex(canonical_request),
                        );
                    }
                }
            }
            VerifyError::InvalidAccessKeyId { access_key_id } => {
                element(&mut out, "AWSAccessKeyId", access_key_id);
            }
            VerifyError::WrongRegion { expected, .. } => element(&mut out, "Region", expected),
            VerifyError::RequestTimeTooSkewed {
                request_time,
                server_time,
            } => {
                element(&mut out, "RequestTime", request_time.amz_date().as_str());
                element(&mut out, "ServerTime", server_time.amz_date().as_str());
                element(&mut out, "MaxAllowedSkewMilliseconds", "900000");
            }
            VerifyError::Expired { expires_at, now } => {
                element(&mut out, "Expires", expires_at.amz_date().as_str());
                element(&mut out, "ServerTime", now.amz_date().as_str());
            }
            VerifyError::HeadersNotSigned { headers } => {
                element(&mut out, "HeadersNotSigned", &headers.join(", "));
            }
            VerifyError::ContentSha256Mismatch {
                client_computed,
                server_computed,
            } => {
                element(&mut out, "ClientComputedContentSHA256", client_computed);
                element(&mut out, "S3ComputedContentSHA256", server_computed);
            }
            VerifyError::ChunkSignatureDoesNotMatch {
                string_to_sign,
                signature_provided,
            } if diagnostics => {
                element(&mut out, "StringToSign", string_to_sign);
                element(&mut out, "SignatureProvided", signature_provided);
            }
            VerifyError::EntityTooLarge {
                max_size_allowed,
                proposed_size,
            } => {
                element(&mut out, "ProposedSize", &proposed_size.to_string());
                element(&mut out, "MaxSizeAllowed", &max_size_allowed.to_string());
            }
            VerifyError::EntityTooSmall {
                min_size_allowed,
                proposed_size,
            } => {
                element(&mut out, "ProposedSize", &proposed_size.to_string());
                element(&mut out, "MinSizeAllowed", &min_size_allowed.to_string());
            }
            VerifyError::IncompleteBody { expected, provided } => {
                element(&mut out, "NumberBytesExpected", &expected.to_string());
                element(&mut out, "NumberBytesProvided", &provided.to_string());
            }
            _ => {}
        }
        element(&mut out, "RequestId", request_id);
        out.push_str("</Error>");
        out
    }
}

/// `<name>escaped text</name>`.
fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "&#x{:X};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Space-separated lowercase hex of the bytes, as AWS prints `CanonicalRequestBytes`.
fn spaced_hex(text: &str) -> String {
    let mut out = String::with_capacity(text.len().saturating_mul(3));
    for (i, b) in text.bytes().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_and_hides_diagnostics_unless_asked() {
        let err = VerifyError::SignatureDoesNotMatch {
            access_key_id: "AKID".into(),
            string_to_sign: "sts".into(),
            canonical_request: "GET\n/<a&b>".into(),
            signature_provided: "00".into(),
        };
        let plain = err.to_xml("req-1");
        assert!(plain.contains("<Code>SignatureDoesNotMatch</Code>"));
        assert!(!plain.contains("CanonicalRequest"));
        let full = err.to_xml_with_diagnostics("req-1");
        assert!(full.contains("<CanonicalRequest>GET\n/&lt;a&amp;b&gt;</CanonicalRequest>"));
        assert!(full.contains("<CanonicalRequestBytes>47 45 54 0a"));
        assert_eq!(err.status(), 403);
    }

    #[test]
    fn codes_and_statuses() {
        assert_eq!(VerifyError::NotYetValid.code(), "AccessDenied");
        assert_eq!(
            VerifyError::NotYetValid.to_string(),
            "Request is not yet valid"
        );
        assert_eq!(VerifyError::MultipleAuthMechanisms.status(), 400);
        let wrong = |presigned| VerifyError::WrongRegion {
            got: "a".into(),
            expected: "b".into(),
            presigned,
        };
        assert_eq!(wrong(true).code(), "AuthorizationQueryParametersError");
        assert_eq!(wrong(false).code(), "AuthorizationHeaderMalformed");
    }
}
