//! Credentials: the access key id, the secret (redacted in `Debug`, zeroized on drop) and an
//! optional session token.

use core::fmt;

use zeroize::Zeroizing;

use crate::Error;

/// An AWS-style access key: id, secret and, for temporary credentials, a session token.
///
/// ```
/// use presign::Credentials;
/// let creds = Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
///     .unwrap()
///     .with_session_token("token")
///     .unwrap();
/// assert!(!format!("{creds:?}").contains("wJalr"));
/// ```
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl Credentials {
    /// Static credentials. The access key id must be non-empty printable ASCII without `/`
    /// (it is the first field of the credential scope); the secret must be non-empty.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Result<Self, Error> {
        let access_key_id = access_key_id.into();
        let secret_access_key = Zeroizing::new(secret_access_key.into());
        validate_access_key_id(&access_key_id)?;
        if secret_access_key.is_empty() {
            return Err(Error::EmptySecretKey);
        }
        Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: None,
        })
    }

    /// Adds the session token of temporary credentials. It is signed into every request
    /// (`X-Amz-Security-Token`).
    pub fn with_session_token(mut self, token: impl Into<String>) -> Result<Self, Error> {
        let token = Zeroizing::new(token.into());
        if token.is_empty() {
            return Err(Error::InvalidSessionToken("empty"));
        }
        if token.bytes().any(|b| b.is_ascii_control()) {
            return Err(Error::InvalidSessionToken("control characters"));
        }
        if token.len() > crate::limits::MAX_SESSION_TOKEN_LEN {
            return Err(Error::InvalidSessionToken(
                "longer than MAX_SESSION_TOKEN_LEN bytes",
            ));
        }
        self.session_token = Some(token);
        Ok(self)
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key. Handle with care: it is the one value that must never be logged.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The session token, for temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref().map(String::as_str)
    }
}

/// Checks an access key id: non-empty, at most 128 bytes, printable ASCII, no `/` or space.
pub(crate) fn validate_access_key_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::InvalidAccessKeyId("empty"));
    }
    if id.len() > 128 {
        return Err(Error::InvalidAccessKeyId("longer than 128 bytes"));
    }
    if !id.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
        return Err(Error::InvalidAccessKeyId(
            "only printable ASCII without '/' or spaces is allowed",
        ));
    }
    Ok(())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secret_and_token() {
        let c = Credentials::new("AKID", "very-secret")
            .and_then(|c| c.with_session_token("tok-secret"));
        let text = format!("{c:?}");
        assert!(text.contains("AKID"));
        assert!(!text.contains("very-secret"));
        assert!(!text.contains("tok-secret"));
    }

    #[test]
    fn bad_credentials_are_refused() {
        assert!(Credentials::new("", "s").is_err());
        assert!(Credentials::new("A/B", "s").is_err());
        assert!(Credentials::new("A B", "s").is_err());
        assert!(Credentials::new("AKID", "").is_err());
        assert!(
            Credentials::new("AKID", "s")
                .and_then(|c| c.with_session_token(""))
                .is_err()
        );
        assert!(
            Credentials::new("AKID", "s")
                .and_then(|c| c.with_session_token("a\nb"))
                .is_err()
        );
    }
}
