//! Derived signing keys, cached per access key, day, region and service.
//!
//! Readers never lock (a snapshot is swapped in on change). An entry is only used while the
//! store still returns the secret it was derived from (compared by fingerprint), so rotating
//! or removing a key takes effect on the next request.
//!
//! In front of the cache and the store, each thread remembers the last static credential it
//! verified for a store that keeps a generation ([`CredentialStore::generation`]): the same
//! credential text at the same generation is the same derived key, without the two lock-free
//! loads, map lookups and comparisons (about 7 % of verifying a presigned URL).
//!
//! [`CredentialStore::generation`]: super::CredentialStore::generation

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use arc_swap::ArcSwap;
use arrayvec::ArrayString;
use time::Date;

use super::credentials::StoredCredential;
use crate::signing_key::{SigningKey, constant_time_eq};

/// Most access keys cached; past it the cache starts over.
const MAX_CACHED_ACCESS_KEYS: usize = 4096;
/// Most (day, region, service) entries per access key.
const MAX_ENTRIES_PER_KEY: usize = 4;

struct Entry {
    date: Date,
    region: String,
    service: String,
    fingerprint: [u8; 32],
    key: SigningKey,
}

/// A multiply-rotate hash (FxHash) for the maps keyed by access key id, several times cheaper
/// than SipHash on these short keys. Flooding is not a concern: a request can only look a key
/// up; entries are added for stored credentials only (by the operator, or by the cache after a
/// store hit), so no request grows a probe sequence.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            if let Some(dst) = word.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[derive(Default)]
pub(crate) struct KeyCache {
    map: ArcSwap<FxHashMap<String, Vec<Arc<Entry>>>>,
}

impl KeyCache {
    pub(crate) fn signing_key(
        &self,
        access_key_id: &str,
        date: Date,
        region: &str,
        service: &str,
        credential: &StoredCredential,
    ) -> SigningKey {
        {
            let map = self.map.load();
            if let Some(entries) = map.get(access_key_id) {
                for e in entries {
                    if e.date == date
                        && e.region == region
                        && e.service == service
                        && constant_time_eq(&e.fingerprint, credential.fingerprint())
                    {
                        return e.key.clone();
                    }
                }
            }
        }
        let key = SigningKey::derive_parts(credential.secret_access_key(), date, region, service);
        let entry = Arc::new(Entry {
            date,
            region: region.to_owned(),
            service: service.to_owned(),
            fingerprint: *credential.fingerprint(),
            key: key.clone(),
        });
        self.map.rcu(|map| {
            let mut map = if map.len() >= MAX_CACHED_ACCESS_KEYS {
                FxHashMap::default()
            } else {
                FxHashMap::clone(map)
            };
            let entries = map.entry(access_key_id.to_owned()).or_default();
            // Entries for an older secret are dead: drop them with the oldest ones.
            entries.retain(|e| constant_time_eq(&e.fingerprint, &entry.fingerprint));
            if entries.len() >= MAX_ENTRIES_PER_KEY {
                entries.remove(0);
            }
            entries.push(Arc::clone(&entry));
            map
        });
        key
    }
}

/// The last static credential a thread verified, and its derived key: valid for the same
/// verifier, store generation and credential text (access key id, date, region, service,
/// terminator). The secret itself is not kept.
struct LastKey {
    verifier: u64,
    generation: u64,
    credential: ArrayString<256>,
    key: SigningKey,
}

thread_local! {
    static LAST_KEY: RefCell<Option<LastKey>> = const { RefCell::new(None) };
}

/// Puts in `slot` the derived key this thread remembered for `credential` under `verifier`
/// at `generation`, and says whether there was one. A key remembered for `verifier` at another
/// generation is dropped (zeroized) here: it can no longer be used.
///
/// Cloned into the caller's slot rather than returned: a keyed HMAC state returned through
/// `Option` and `Result` is copied at each step, each time from memory just written.
pub(crate) fn remembered(
    verifier: u64,
    generation: u64,
    credential: &str,
    slot: &mut Option<SigningKey>,
) -> bool {
    LAST_KEY.with_borrow_mut(|last| {
        let Some(entry) = last.as_ref() else {
            return false;
        };
        if entry.verifier == verifier
            && entry.generation == generation
            && entry.credential.as_str() == credential
        {
            *slot = Some(entry.key.clone());
            return true;
        }
        if entry.verifier == verifier && entry.generation != generation {
            *last = None;
        }
        false
    })
}

/// Remembers `key` as the derived key of `credential` (static: no session token, no expiry)
/// under `verifier` at `generation`, read before the store was asked. A credential longer than
/// the inline buffer is not remembered.
pub(crate) fn remember(verifier: u64, generation: u64, credential: &str, key: &SigningKey) {
    let Ok(credential) = ArrayString::from(credential) else {
        return;
    };
    LAST_KEY.with_borrow_mut(|last| {
        *last = Some(LastKey {
            verifier,
            generation,
            credential,
            key: key.clone(),
        });
    });
}
