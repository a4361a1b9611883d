//! Derived signing keys, cached per access key, day, region and service.
//!
//! Readers never lock (a snapshot is swapped in on change). An entry is only used while the
//! store still returns the secret it was derived from (compared by fingerprint), so rotating
//! or removing a key takes effect on the next request.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
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

#[derive(Default)]
pub(crate) struct KeyCache {
    map: ArcSwap<HashMap<String, Vec<Arc<Entry>>>>,
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
                HashMap::new()
            } else {
                HashMap::clone(map)
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
