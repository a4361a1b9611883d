//! Crate-internal: the credential checks every SigV4 mechanism shares, for mechanisms that are
//! not a request target plus headers (browser POST forms, `crate::post`).
//!
//! Given the credential as sent (`AKID/yyyyMMdd/region/service/aws4_request`), the signing time
//! and the session token, it checks the scope against the configuration and the credential
//! against the store, and returns the (cached) signing key. Kept in a child module of `verify`
//! so that it reuses the verifier's scope parser, token comparison and key cache as they are.

use time::Date;

use super::{CredentialScope, CredentialStore, Verifier, VerifyError};
use crate::SigningTime;
use crate::signing_key::SigningKey;

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
        let mut parsed = CredentialScope::EMPTY;
        parsed.fill(credential, false, malformed)?;
        let scope = parsed.parts();
        let date = self.check_scope(&scope, signing_time, malformed, &|got, expected| {
            malformed(format!(
                "the region '{got}' is wrong; expecting '{expected}'"
            ))
        })?;
        let mut key_slot = None;
        let (signing_key, credential_expires_at) =
            self.credential_key(&scope, date, session_token, false, now, &mut key_slot)?;
        let signing_key = signing_key.clone();
        let access_key_id = scope.access_key_id;
        Ok(ScopeAuth {
            access_key_id: access_key_id.to_owned(),
            scope: scope.scope.to_owned(),
            date,
            region: scope.region.to_owned(),
            service: scope.service.to_owned(),
            signing_key,
            credential_expires_at,
        })
    }
}
