//! Which features to extract: the groups that are on and the trailing window widths.

use serde::{Deserialize, Serialize};

use super::schema::feature_names;

/// The widest trailing window, in minutes (one week).
pub const MAX_WINDOW_MINUTES: u32 = 10_080;
/// The most trailing windows a configuration may ask for.
pub const MAX_WINDOWS: usize = 8;

/// Which feature groups are on. Every group is on by default; a group that is off removes its
/// columns from the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureGroups {
    /// `hour_of_day` … `is_business_hours`, from the UTC timestamp.
    pub time: bool,
    /// Connection, authentication and error keywords, MAC and IP counts, message length.
    pub wifi_events: bool,
    /// Deauthentication, authentication failures and handshake timeouts.
    pub security: bool,
    /// Word, special-character, uppercase, number and distinct-character statistics.
    pub text: bool,
    /// Process rank and frequency in the training vocabulary, and the log level.
    pub process: bool,
    /// Trailing-window counts, six per entry of [`FeatureConfig::window_minutes`].
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

#[cfg(test)]
impl FeatureGroups {
    /// Every group off: a starting point for tests that switch single groups on.
    pub(crate) fn none() -> FeatureGroups {
        FeatureGroups {
            time: false,
            wifi_events: false,
            security: false,
            text: false,
            process: false,
            windows: false,
        }
    }
}

/// The feature-extraction settings. Defaults: every group on, windows of 5, 15 and 60 minutes.
///
/// [`extract`](super::extract) trusts the configuration it is given; run [`FeatureConfig::check`]
/// on anything that came from a user first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// Which feature groups are extracted.
    pub groups: FeatureGroups,
    /// Widths of the trailing windows, in minutes, in column order.
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

/// Why a [`FeatureConfig`] cannot be used. Each message names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureConfigError {
    /// A window width outside 1 to [`MAX_WINDOW_MINUTES`] minutes.
    #[error("window_minutes: {minutes} is out of range 1..={MAX_WINDOW_MINUTES}")]
    WindowOutOfRange {
        /// The width given, in minutes.
        minutes: u32,
    },
    /// The same window width listed twice.
    #[error("window_minutes: {minutes} is listed more than once")]
    DuplicateWindow {
        /// The repeated width, in minutes.
        minutes: u32,
    },
    /// More than [`MAX_WINDOWS`] windows.
    #[error("window_minutes: {count} windows given, at most {MAX_WINDOWS} are allowed")]
    TooManyWindows {
        /// Windows given.
        count: usize,
    },
    /// The configuration selects no feature at all.
    #[error(
        "no features selected: every group is off (or only windows is on and window_minutes is empty)"
    )]
    NoFeatures,
}

impl FeatureConfig {
    /// Checks the window widths (each in `1..=10080` minutes, no duplicates, at most 8) and that
    /// at least one feature is selected. Reports the first problem found.
    pub fn check(&self) -> Result<(), FeatureConfigError> {
        for (i, &minutes) in self.window_minutes.iter().enumerate() {
            if !(1..=MAX_WINDOW_MINUTES).contains(&minutes) {
                return Err(FeatureConfigError::WindowOutOfRange { minutes });
            }
            if self.window_minutes[..i].contains(&minutes) {
                return Err(FeatureConfigError::DuplicateWindow { minutes });
            }
        }
        if self.window_minutes.len() > MAX_WINDOWS {
            return Err(FeatureConfigError::TooManyWindows {
                count: self.window_minutes.len(),
            });
        }
        if feature_names(self).is_empty() {
            return Err(FeatureConfigError::NoFeatures);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(window_minutes: Vec<u32>) -> FeatureConfig {
        FeatureConfig {
            window_minutes,
            ..FeatureConfig::default()
        }
    }

    #[test]
    fn default_config_is_valid() {
        assert_eq!(FeatureConfig::default().check(), Ok(()));
        assert_eq!(FeatureConfig::default().window_minutes, vec![5, 15, 60]);
    }

    #[test]
    fn check_names_the_bad_window() {
        let err = windows(vec![5, 0]).check().map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("window_minutes: 0 is out of range 1..=10080".to_owned())
        );
        let err = windows(vec![10_081]).check().map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("window_minutes: 10081 is out of range 1..=10080".to_owned())
        );
        assert_eq!(windows(vec![1, 10_080]).check(), Ok(()));
        let err = windows(vec![5, 15, 5]).check().map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("window_minutes: 5 is listed more than once".to_owned())
        );
        let err = windows((1..=9).collect())
            .check()
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("window_minutes: 9 windows given, at most 8 are allowed".to_owned())
        );
        assert_eq!(windows((1..=8).collect()).check(), Ok(()));
    }

    #[test]
    fn check_needs_at_least_one_feature() {
        let none = FeatureConfig {
            groups: FeatureGroups::none(),
            window_minutes: vec![5],
        };
        assert_eq!(none.check(), Err(FeatureConfigError::NoFeatures));
        let empty_windows = FeatureConfig {
            groups: FeatureGroups {
                windows: true,
                ..FeatureGroups::none()
            },
            window_minutes: vec![],
        };
        assert_eq!(empty_windows.check(), Err(FeatureConfigError::NoFeatures));
        let only_windows = FeatureConfig {
            window_minutes: vec![5],
            ..empty_windows
        };
        assert_eq!(only_windows.check(), Ok(()));
        let only_time = FeatureConfig {
            groups: FeatureGroups {
                time: true,
                ..FeatureGroups::none()
            },
            window_minutes: vec![],
        };
        assert_eq!(only_time.check(), Ok(()));
    }

    #[test]
    fn deserializes_partial_config_and_rejects_unknown_fields() {
        let config: FeatureConfig =
            serde_json::from_str(r#"{"groups": {"text": false}}"#).unwrap_or_default();
        assert!(!config.groups.text);
        assert!(config.groups.time && config.groups.windows);
        assert_eq!(config.window_minutes, vec![5, 15, 60]);

        let typo = serde_json::from_str::<FeatureConfig>(r#"{"groups": {"txt": false}}"#);
        assert!(typo.is_err_and(|e| e.to_string().contains("txt")));
        let typo = serde_json::from_str::<FeatureConfig>(r#"{"windows": [5]}"#);
        assert!(typo.is_err_and(|e| e.to_string().contains("windows")));
    }
}
