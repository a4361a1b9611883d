//! Crate-internal: the credential checks every SigV4 mechanism shares, for mechanisms that are
//! not a request target plus headers (browser POST forms, `crate::post`).
//!
//! Given the credential as sent (`AKID/yyyyMMdd/region/service/aws4_request`), the signing time
//! and the session token, it checks the scope against the configuration and the credential
//! against the store, and returns the (cached) signing key. Kept in a child module of `verify`
//! so that it reuses the verifier's scope parser, token comparison and key cache as they are.

use time::Date;

use super::{CredentialScope, CredentialStore, Verifier, VerifyError, token_matches};
use crate::SigningTime;
use crate::scope::SCOPE_TERMINATOR;
use crate::signing_key::SigningKey;
use crate::time::parse_date8;

/// A credential whose scope is acceptable and whose secret the store holds.
pub(crate) struct ScopeAuth {
    pub(crate) access_key_id: String,
    /// `yyyyMMdd/region/service/aws4_request`.
    pub(crate) scope: String,
    pub(crate) date: Date,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) signing_key: SigningKey,
    /// When temporary credentials expire.
    pub(crate) credential_expires_at: Option<SigningTime>,
}

impl<S: CredentialStore> Verifier<S> {
    /// Checks `credential` (as sent, not encoded) for a request signed at `signing_time`: five
    /// parts, a real date equal to the signing time's, an accepted region and service, the exact
    /// terminator; then a known key, a session token that matches the stored one (both absent
    /// for static keys), credentials not expired at `now`. Scope errors go through `malformed`.
    pub(crate) fn authenticate_scope(
        &self,
        credential: &str,
        signing_time: SigningTime,
        session_token: Option<&str>,
        now: SigningTime,
        malformed: &dyn Fn(String) -> VerifyError,
    ) -> Result<ScopeAuth, VerifyError> {
        let scope = CredentialScope::parse(credential.bytes(), malformed)?;
        if scope.access_key_id().is_empty() {
            return Err(malformed(
                "a non-empty Access Key (AKID) must be provided in the credential.".into(),
            ));
        }
        let date = parse_date8(scope.date().as_bytes())
            .ok_or_else(|| malformed(format!("invalid credential date {:?}", scope.date())))?;
        if date != signing_time.date() {
            return Err(malformed(
                "Invalid credential date. Date is not the same as X-Amz-Date.".into(),
            ));
        }
        if !self.config.regions.iter().any(|r| r == scope.region()) {
            return Err(malformed(format!(
                "the region '{}' is wrong; expecting '{}'",
                scope.region(),
                self.config.regions.join(",")
            )));
        }
        if !self.config.services.iter().any(|s| s == scope.service()) {
            return Err(malformed(format!(
                "the service {:?} in the credential is not accepted here",
                scope.service()
            )));
        }
        if scope.terminator() != SCOPE_TERMINATOR {
            return Err(malformed(format!(
                "the credential must end with {SCOPE_TERMINATOR:?}"
            )));
        }

        let access_key_id = scope.access_key_id();
        let mut lookup: Option<Result<(SigningKey, Option<SigningTime>), VerifyError>> = None;
        self.store.lookup(access_key_id, &mut |cred| {
            let token_ok = match (cred.session_token(), session_token) {
                (None, None) => true,
                (Some(stored), Some(sent)) => token_matches(sent, false, stored),
                _ => false,
            };
            lookup = Some(if !token_ok {
                Err(VerifyError::InvalidToken)
            } else if cred.expires_at().is_some_and(|e| now >= e) {
                Err(VerifyError::ExpiredToken)
            } else {
                Ok((
                    self.keys.signing_key(
                        access_key_id,
                        date,
                        scope.region(),
                        scope.service(),
                        cred,
                    ),
                    cred.expires_at(),
                ))
            });
        });
        let (signing_key, credential_expires_at) = match lookup {
            None => {
                return Err(VerifyError::InvalidAccessKeyId {
                    access_key_id: access_key_id.to_owned(),
                });
            }
            Some(result) => result?,
        };
        Ok(ScopeAuth {
            access_key_id: access_key_id.to_owned(),
            scope: scope.scope().to_owned(),
            date,
            region: scope.region().to_owned(),
            service: scope.service().to_owned(),
            signing_key,
            credential_expires_at,
        })
    }
}
