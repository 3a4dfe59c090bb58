//! Placeholder replaced by the feature-extraction merge (only the config types are needed here).
use serde::{Deserialize, Serialize};
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureGroups {
    pub time: bool,
    pub wifi_events: bool,
    pub security: bool,
    pub text: bool,
    pub process: bool,
    pub windows: bool,
}
impl Default for FeatureGroups {
    fn default() -> Self {
        FeatureGroups {
            time: true,
            wifi_events: true,
            security: true,
            text: true,
            process: true,
            windows: true,
        }
    }
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    pub groups: FeatureGroups,
    pub window_minutes: Vec<u32>,
}
impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            groups: FeatureGroups::default(),
            window_minutes: vec![5, 15, 60],
        }
    }
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FeatureConfigError(String);
impl FeatureConfig {
    pub fn check(&self) -> Result<(), FeatureConfigError> {
        if self.window_minutes.contains(&0) {
            return Err(FeatureConfigError(
                "window_minutes: 0 is out of range 1..=10080".into(),
            ));
        }
        Ok(())
    }
}
