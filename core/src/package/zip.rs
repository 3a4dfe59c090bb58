//! A deterministic ZIP writer and a defensive ZIP reader.
