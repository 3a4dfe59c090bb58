//! The registry in this browser: the core's registry over an in-memory mirror, changed on a copy
//! whose difference is written to IndexedDB in one transaction before the mirror adopts it.

use leptos::prelude::*;
use mcp_train_core::registry::{MemoryStore, Registry, RegistryError, RegistryStore, StoredModel};

use super::AppState;
use crate::idb::{Database, StoreName, Write};

/// The registry's index key in the `registry` object store; models sit under `model/<version>`.
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
            } else if let Some(version) = key.strip_prefix(MODEL_PREFIX) {
                store.write_model(version, &value)
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

/// The IndexedDB writes that turn `before` into `after`.
fn diff(before: &MemoryStore, after: &MemoryStore) -> Result<Vec<Write>, RegistryError> {
    let mut writes = Vec::new();
    let old_versions = before.list_models()?;
    let new_versions = after.list_models()?;
    for version in &new_versions {
        let bytes = after.read_model(version)?;
        if bytes != before.read_model(version)? {
            writes.push(Write {
                store: StoreName::Registry,
                key: format!("{MODEL_PREFIX}{version}"),
                value: bytes,
            });
        }
    }
    for version in old_versions.iter().filter(|v| !new_versions.contains(v)) {
        writes.push(Write {
            store: StoreName::Registry,
            key: format!("{MODEL_PREFIX}{version}"),
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
        let mut before = MemoryStore::new();
        before.write_model("20240101_000000", b"old").ok();
        before.write_model("20240102_000000", b"kept").ok();
        before.write_index(b"i1").ok();
        let mut after = before.clone();
        after.remove_model("20240101_000000").ok();
        after.write_model("20240103_000000", b"new").ok();
        after.write_index(b"i2").ok();
        let writes = diff(&before, &after).unwrap_or_default();
        let keys: Vec<(String, Option<Vec<u8>>)> =
            writes.into_iter().map(|w| (w.key, w.value)).collect();
        assert_eq!(
            keys,
            vec![
                ("model/20240103_000000".to_owned(), Some(b"new".to_vec())),
                ("model/20240101_000000".to_owned(), None),
                ("registry.json".to_owned(), Some(b"i2".to_vec())),
            ]
        );
        assert!(diff(&after, &after).unwrap_or_default().is_empty());
    }
}
