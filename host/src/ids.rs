//! Prefixed, unguessable identifiers and secrets (`org_…`, `tpl_…`, `wf_…` keys).
//!
//! Ids carry a short type prefix so a support engineer can tell an organisation from a
//! template at a glance, and 128 bits of randomness so nothing can be enumerated — except
//! the high-volume outbox rows (events, deliveries, attempts), whose ids start with their
//! creation time so their indexes grow at the end ([`new_sortable_id`]).

use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest, Sha256};

/// A new id: `prefix_` followed by 22 random alphanumerics (~131 bits).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_alphanumeric(22))
}

/// A new id that sorts by creation time: `prefix_`, the epoch millisecond in 9 base-62
/// digits, then 13 random alphanumerics (~77 bits). For rows written at a high rate and
/// indexed by id (events, deliveries, attempts): new keys land at the end of the index
/// instead of on a random page, so a batch of inserts dirties a few pages rather than one
/// per row. Not for credentials: the time part is guessable.
pub fn new_sortable_id(prefix: &str) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut millis = u64::try_from(crate::clock::now_ms()).unwrap_or(0);
    let mut time = [b'0'; 9];
    for digit in time.iter_mut().rev() {
        *digit = DIGITS[(millis % 62) as usize];
        millis /= 62;
    }
    let time = std::str::from_utf8(&time).expect("base-62 digits are ASCII");
    format!("{prefix}_{time}{}", random_alphanumeric(13))
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

    #[test]
    fn sortable_ids_sort_by_creation_time() {
        let first = new_sortable_id("dlv");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_sortable_id("dlv");
        assert!(first.starts_with("dlv_") && first.len() == 26, "{first}");
        assert!(first < second, "{first} !< {second}");
    }
}
