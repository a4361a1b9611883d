//! Access keys: the verifier's credential store, the key that signs the presign API's URLs,
//! and the admin endpoints to add, rotate and revoke keys.
//!
//! Rotation is two steps, so nothing breaks mid-flight: `POST /api/admin/keys/rotate` makes a
//! new key the signing key while URLs minted with the old one keep working; `DELETE
//! /api/admin/keys/{id}` then revokes the old key, and every URL it signed fails with
//! `InvalidAccessKeyId` at once (the verifier looks keys up on every request).

use std::sync::{Arc, PoisonError, RwLock};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use presign::verify::{InMemoryCredentials, StoredCredential, Verifier, VerifierConfig};
use presign::{Credentials, Signer};
use serde::Deserialize;
use serde_json::json;

use crate::Shared;
use crate::error::ApiError;

/// The keys the gateway accepts, and the one it signs with.
pub struct KeyRing {
    verifier: Verifier<InMemoryCredentials>,
    /// The signing key of the presign API, with its access key id.
    active: RwLock<(String, Arc<Signer>)>,
    region: String,
}

impl KeyRing {
    /// A ring holding `initial`, which signs; requests are accepted for `region` only.
    pub fn new(initial: Credentials, region: &str) -> Result<Self, String> {
        let store = InMemoryCredentials::new();
        store
            .insert(
                initial.access_key_id(),
                StoredCredential::new(initial.secret_access_key()).map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
        let id = initial.access_key_id().to_owned();
        let signer = Signer::new(initial, region, "s3").map_err(|e| e.to_string())?;
        Ok(KeyRing {
            verifier: Verifier::new(store, VerifierConfig::default().regions([region])),
            active: RwLock::new((id, Arc::new(signer))),
            region: region.to_owned(),
        })
    }

    /// The verifier (every S3 request goes through it).
    pub fn verifier(&self) -> &Verifier<InMemoryCredentials> {
        &self.verifier
    }

    /// The current signing key.
    pub fn signer(&self) -> Arc<Signer> {
        let active = self.active.read().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&active.1)
    }

    /// The access key id of the signing key.
    fn active_id(&self) -> String {
        let active = self.active.read().unwrap_or_else(PoisonError::into_inner);
        active.0.clone()
    }

    /// Adds a key (or replaces its secret); with `activate`, it becomes the signing key.
    pub fn add(&self, id: &str, secret: &str, activate: bool) -> Result<(), String> {
        let credentials = Credentials::new(id, secret).map_err(|e| e.to_string())?;
        let stored = StoredCredential::new(secret).map_err(|e| e.to_string())?;
        let signer = Signer::new(credentials, &self.region, "s3").map_err(|e| e.to_string())?;
        self.verifier
            .store()
            .insert(id, stored)
            .map_err(|e| e.to_string())?;
        let mut active = self.active.write().unwrap_or_else(PoisonError::into_inner);
        // Replacing the active key's secret must also replace the signer, or the API would
        // mint URLs with a secret the verifier no longer has.
        if activate || active.0 == id {
            *active = (id.to_owned(), Arc::new(signer));
        }
        Ok(())
    }

    /// Revokes a key. The signing key cannot be revoked: rotate first.
    pub fn revoke(&self, id: &str) -> Result<(), ApiError> {
        if self.active_id() == id {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "active_key",
                "this key signs the presign API's URLs: rotate to a new key before revoking it",
            ));
        }
        if !self.verifier.store().remove(id) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_key",
                format!("no access key {id:?}"),
            ));
        }
        Ok(())
    }
}

/// A new random key pair: a 20-character id in the AWS style and a 40-character secret.
pub fn generate() -> (String, String) {
    const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let pick = |chars: &[u8], n: usize| -> String {
        crate::random_bytes(n)
            .iter()
            .map(|b| {
                char::from(
                    chars
                        .get(usize::from(*b) % chars.len())
                        .copied()
                        .unwrap_or(b'A'),
                )
            })
            .collect()
    };
    (
        format!("GWAK{}", pick(ID_CHARS, 16)),
        pick(SECRET_CHARS, 40),
    )
}

/// `GET /api/admin/keys`: the access key ids and the signing one (never secrets).
pub async fn list(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    state.api.authenticate(&headers)?;
    let keys = &state.keys;
    Ok(Json(json!({
        "active": keys.active_id(),
        "keys": keys.verifier.store().access_key_ids(),
    }))
    .into_response())
}

/// The body of `POST /api/admin/keys`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AddKey {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    #[serde(default)]
    activate: bool,
}

/// `POST /api/admin/keys`: adds a key (random unless given); the secret is shown once.
pub async fn add(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    state.api.authenticate(&headers)?;
    let req: AddKey = if body.is_empty() {
        AddKey::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let (gen_id, gen_secret) = generate();
    let id = req.access_key_id.unwrap_or(gen_id);
    let secret = req.secret_access_key.unwrap_or(gen_secret);
    state
        .keys
        .add(&id, &secret, req.activate)
        .map_err(ApiError::bad_request)?;
    crate::log!("gateway: access key {id} added");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "access_key_id": id,
            "secret_access_key": secret,
            "active": state.keys.active_id() == id,
        })),
    )
        .into_response())
}

/// `POST /api/admin/keys/rotate`: a new random key becomes the signing key; the previous one
/// stays valid until revoked.
pub async fn rotate(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    state.api.authenticate(&headers)?;
    let previous = state.keys.active_id();
    let (id, secret) = generate();
    state
        .keys
        .add(&id, &secret, true)
        .map_err(ApiError::bad_request)?;
    crate::log!("gateway: rotated the signing key from {previous} to {id}");
    Ok(Json(json!({
        "access_key_id": id,
        "secret_access_key": secret,
        "previous": previous,
    }))
    .into_response())
}

/// `DELETE /api/admin/keys/{id}`: revokes a key; URLs it signed fail from now on.
pub async fn revoke(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.api.authenticate(&headers)?;
    state.keys.revoke(&id)?;
    crate::log!("gateway: access key {id} revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}
