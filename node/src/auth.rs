//! The HMAC challenge-response of `/ws`. The protocol lives in
//! `stagger_core::wire::auth` (shared with the browser member); the node
//! adds what that crate must not do: read the OS for fresh nonces.

pub use stagger_core::wire::auth::*;

/// A fresh nonce: [`NONCE_BYTES`] random bytes from the OS, in lowercase hex.
///
/// # Panics
///
/// If the OS has no randomness to give, which leaves nothing safe to do.
pub fn nonce() -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    getrandom::getrandom(&mut bytes).expect("the OS random number generator failed");
    nonce_hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_nonces_are_fresh_well_formed_hex() {
        let (a, b) = (nonce(), nonce());
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 * NONCE_BYTES);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
