//! Where the verifier finds secrets: a store the embedder implements, and an in-memory one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::key_cache::FxHashMap;
use crate::credentials::validate_access_key_id;
use crate::{Error, SigningTime};

/// A secret as a credential store holds it: the secret key, and for temporary credentials the
/// session token and when they expire.
#[derive(Clone)]
pub struct StoredCredential {
    secret: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
    expires_at: Option<SigningTime>,
    fingerprint: [u8; 32],
}

impl StoredCredential {
    /// Static credentials.
    pub fn new(secret_access_key: impl Into<String>) -> Result<Self, Error> {
        let secret = Zeroizing::new(secret_access_key.into());
        if secret.is_empty() {
            return Err(Error::EmptySecretKey);
        }
        let fingerprint = fingerprint(&secret);
        Ok(StoredCredential {
            secret,
            session_token: None,
            expires_at: None,
            fingerprint,
        })
    }

    /// Temporary credentials: requests must carry `session_token`, and are refused from
    /// `expires_at` on.
    pub fn temporary(
        secret_access_key: impl Into<String>,
        session_token: impl Into<String>,
        expires_at: Option<SigningTime>,
    ) -> Result<Self, Error> {
        let token = Zeroizing::new(session_token.into());
        if token.is_empty() {
            return Err(Error::InvalidSessionToken("empty"));
        }
        let mut cred = Self::new(secret_access_key)?;
        cred.session_token = Some(token);
        cred.expires_at = expires_at;
        Ok(cred)
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret
    }

    /// The session token of temporary credentials.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref().map(String::as_str)
    }

    /// When temporary credentials expire.
    pub fn expires_at(&self) -> Option<SigningTime> {
        self.expires_at
    }

    /// A keyed hash of the secret: the key cache notices a rotated secret by it without
    /// keeping a copy of the secret.
    pub(crate) fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }
}

fn fingerprint(secret: &str) -> [u8; 32] {
    match Hmac::<Sha256>::new_from_slice(b"presign key-cache fingerprint") {
        Ok(mut mac) => {
            mac.update(secret.as_bytes());
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

impl core::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Looks up the secret of an access key id.
///
/// The store hands the credential to a callback rather than returning it, so a store can lend
/// it from behind its own lock or snapshot without copying the secret. A key that is absent
/// makes every request signed with it fail with `InvalidAccessKeyId`: removing a key revokes
/// every URL signed with it, and replacing its secret (rotation) does the same.
pub trait CredentialStore: Send + Sync {
    /// Calls `found` with the credential of `access_key_id` if there is one; does nothing
    /// otherwise.
    fn lookup(&self, access_key_id: &str, found: &mut dyn FnMut(&StoredCredential));

    /// A number that changes whenever a credential is added, replaced or removed, if the store
    /// keeps one; `None` (the default) if it does not.
    ///
    /// With a generation, a thread that verifies a request signed with the same static
    /// credential and scope as its previous one, at the same generation, reuses that request's
    /// derived key without asking the store (see [`Verifier`](super::Verifier)). So the number
    /// must change *after* the change is visible to [`lookup`](Self::lookup), and be read so
    /// that a lookup made after seeing the new number sees the change: for example an
    /// `AtomicU64` incremented with `Release` (or `SeqCst`) once the change is made, and
    /// loaded with `Acquire`. A store whose credentials can change without the number changing
    /// (entries that expire by themselves, a database edited behind its back) must return
    /// `None`.
    fn generation(&self) -> Option<u64> {
        None
    }
}

impl<S: CredentialStore + ?Sized> CredentialStore for Arc<S> {
    fn lookup(&self, access_key_id: &str, found: &mut dyn FnMut(&StoredCredential)) {
        (**self).lookup(access_key_id, found);
    }

    fn generation(&self) -> Option<u64> {
        (**self).generation()
    }
}

impl<S: CredentialStore + ?Sized> CredentialStore for &S {
    fn lookup(&self, access_key_id: &str, found: &mut dyn FnMut(&StoredCredential)) {
        (**self).lookup(access_key_id, found);
    }

    fn generation(&self) -> Option<u64> {
        (**self).generation()
    }
}

/// An in-memory credential store with several keys, safe to change while requests are verified
/// (readers never lock: changes swap in a new snapshot). It keeps a
/// [generation](CredentialStore::generation), so a thread verifying request after request
/// signed with the same static credential does not look it up each time; a change takes effect
/// on the next request all the same.
///
/// ```
/// use presign::verify::{CredentialStore, InMemoryCredentials, StoredCredential};
/// let store = InMemoryCredentials::new();
/// store.insert("AKID1", StoredCredential::new("secret-1").unwrap()).unwrap();
/// store.insert("AKID2", StoredCredential::new("secret-2").unwrap()).unwrap();
/// store.remove("AKID1"); // revokes every URL signed with AKID1
/// let mut found = false;
/// store.lookup("AKID1", &mut |_| found = true);
/// assert!(!found);
/// ```
#[derive(Default)]
pub struct InMemoryCredentials {
    keys: ArcSwap<FxHashMap<String, StoredCredential>>,
    /// Incremented after every change of `keys` (see [`CredentialStore::generation`]).
    generation: AtomicU64,
}

impl InMemoryCredentials {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key, or replaces its secret (rotation: URLs signed with the old secret stop
    /// verifying).
    pub fn insert(&self, access_key_id: &str, credential: StoredCredential) -> Result<(), Error> {
        validate_access_key_id(access_key_id)?;
        self.keys.rcu(|keys| {
            let mut keys = FxHashMap::clone(keys);
            keys.insert(access_key_id.to_owned(), credential.clone());
            keys
        });
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Removes a key; returns whether it was there.
    pub fn remove(&self, access_key_id: &str) -> bool {
        let mut removed = false;
        self.keys.rcu(|keys| {
            let mut keys = FxHashMap::clone(keys);
            removed = keys.remove(access_key_id).is_some();
            keys
        });
        self.generation.fetch_add(1, Ordering::Release);
        removed
    }

    /// The access key ids in the store, sorted.
    pub fn access_key_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.keys.load().keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.load().len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.load().is_empty()
    }
}

impl CredentialStore for InMemoryCredentials {
    fn lookup(&self, access_key_id: &str, found: &mut dyn FnMut(&StoredCredential)) {
        if let Some(cred) = self.keys.load().get(access_key_id) {
            found(cred);
        }
    }

    fn generation(&self) -> Option<u64> {
        Some(self.generation.load(Ordering::Acquire))
    }
}

impl core::fmt::Debug for InMemoryCredentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InMemoryCredentials")
            .field("access_key_ids", &self.access_key_ids())
            .finish()
    }
}
