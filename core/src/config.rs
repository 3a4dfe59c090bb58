//! Configuration defaults (filled in by the config work).
