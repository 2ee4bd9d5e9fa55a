//! A hash map with a fixed, seedless hasher, for lookups on the hot path.
//!
//! std's default hasher is randomly seeded per process, so iterating its maps would make output
//! order vary between runs. These maps are only ever used for lookup by key; nothing iterates
//! them where the order could reach events or output (use BTreeMap or Vec for that).

/// FxHash (rustc's hasher): fast for small integer keys, deterministic. Also used for the
/// ring fingerprints and trace hashes, which are only ever compared for equality.
pub use rustc_hash::FxHasher;

pub type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;
