//! Prefixed, unguessable identifiers and secrets (`org_…`, `tpl_…`, `wf_…` keys).
//!
//! Ids carry a short type prefix so a support engineer can tell an organisation from a
//! template at a glance, and 128 bits of randomness so nothing can be enumerated.

use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest, Sha256};

/// A new id: `prefix_` followed by 22 random alphanumerics (~131 bits).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_alphanumeric(22))
}

/// A random alphanumeric string of `len` characters from the OS-seeded thread RNG.
pub fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// Hex SHA-256: the only form in which secrets are stored, and content digests.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(data.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_and_distinct() {
        let a = new_id("org");
        let b = new_id("org");
        assert!(a.starts_with("org_") && a.len() == 26);
        assert_ne!(a, b);
    }
}
