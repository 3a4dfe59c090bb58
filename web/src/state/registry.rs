//! The registry in this browser: the core's registry over an in-memory mirror, changed on a copy
//! whose difference is written to IndexedDB in one transaction before the mirror adopts it.

use leptos::prelude::*;
use mcp_train_core::registry::{
    MemoryStore, ModelKey, Registry, RegistryError, RegistryStore, StoredModel,
};

use super::AppState;
use crate::idb::{Database, StoreName, Write};

/// The registry's index key in the `registry` object store; models sit under
/// `model/<log_type>/<version>` (`model/<version>` in a registry written before log types,
/// migrated by the first change).
const INDEX_KEY: &str = "registry.json";
const MODEL_PREFIX: &str = "model/";

impl AppState {
    /// Reads the stored registry into the mirror.
    pub(super) async fn load_registry(self, db: &Database) -> Result<(), String> {
        let mut store = MemoryStore::new();
        for (key, value) in db
            .get_all(StoreName::Registry)
            .await
            .map_err(|e| e.to_string())?
        {
            let written = if key == INDEX_KEY {
                store.write_index(&value)
            } else if let Some(key) = key.strip_prefix(MODEL_PREFIX).and_then(model_key) {
                store.write_model(&key, &value)
            } else {
                Ok(())
            };
            written.map_err(|e| e.to_string())?;
        }
        let models = Registry::new(store.clone())
            .list()
            .map_err(|e| format!("the stored registry cannot be read: {e}"))?;
        self.registry.set_value(store);
        self.models.set(models);
        Ok(())
    }

    /// A model's record and bytes.
    pub fn model(self, version: &str) -> Result<StoredModel, RegistryError> {
        self.registry
            .with_value(|store| Registry::new(store.clone()).get(version))
    }

    /// Runs a registry change on a copy of the mirror, persists the difference, then adopts it.
    pub async fn change_registry<T>(
        self,
        change: impl FnOnce(&mut Registry<MemoryStore>) -> Result<T, RegistryError>,
    ) -> Result<T, String> {
        let before = self.registry.get_value();
        let mut registry = Registry::new(before.clone());
        let out = change(&mut registry).map_err(|e| e.to_string())?;
        let after = registry.into_store();
        let writes = diff(&before, &after).map_err(|e| e.to_string())?;
        self.persist(writes).await?;
        let models = Registry::new(after.clone())
            .list()
            .map_err(|e| e.to_string())?;
        self.registry.set_value(after);
        self.models.set(models);
        Ok(out)
    }
}

/// The model key of an IndexedDB key after `model/`: `<log_type>/<version>` or `<version>`.
fn model_key(key: &str) -> Option<ModelKey> {
    let key = match key.split_once('/') {
        Some((log_type, version)) => ModelKey::new(log_type, version),
        None => ModelKey::legacy(key),
    };
    key.is_valid().then_some(key)
}

/// The IndexedDB writes that turn `before` into `after`.
fn diff(before: &MemoryStore, after: &MemoryStore) -> Result<Vec<Write>, RegistryError> {
    let mut writes = Vec::new();
    let old_keys = before.list_models()?;
    let new_keys = after.list_models()?;
    for key in &new_keys {
        let bytes = after.read_model(key)?;
        if bytes != before.read_model(key)? {
            writes.push(Write {
                store: StoreName::Registry,
                key: format!("{MODEL_PREFIX}{key}"),
                value: bytes,
            });
        }
    }
    for key in old_keys.iter().filter(|k| !new_keys.contains(k)) {
        writes.push(Write {
            store: StoreName::Registry,
            key: format!("{MODEL_PREFIX}{key}"),
            value: None,
        });
    }
    let index = after.read_index()?;
    if index != before.read_index()? {
        writes.push(Write {
            store: StoreName::Registry,
            key: INDEX_KEY.to_owned(),
            value: index,
        });
    }
    Ok(writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_writes_new_models_the_index_and_deletes_removed_ones() {
        let key = |v: &str| ModelKey::new("wifi", v);
        let mut before = MemoryStore::new();
        before.write_model(&key("20240101_000000"), b"old").ok();
        before.write_model(&key("20240102_000000"), b"kept").ok();
        before.write_index(b"i1").ok();
        let mut after = before.clone();
        after.remove_model(&key("20240101_000000")).ok();
        after.write_model(&key("20240103_000000"), b"new").ok();
        after.write_index(b"i2").ok();
        let writes = diff(&before, &after).unwrap_or_default();
        let keys: Vec<(String, Option<Vec<u8>>)> =
            writes.into_iter().map(|w| (w.key, w.value)).collect();
        assert_eq!(
            keys,
            vec![
                (
                    "model/wifi/20240103_000000".to_owned(),
                    Some(b"new".to_vec())
                ),
                ("model/wifi/20240101_000000".to_owned(), None),
                ("registry.json".to_owned(), Some(b"i2".to_vec())),
            ]
        );
        assert!(diff(&after, &after).unwrap_or_default().is_empty());
    }
}
