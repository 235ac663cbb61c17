//! The per-principal CSRF tokens: an HMAC-SHA256, under a secret, of how
//! the caller was recognised, their role and their name (see
//! [`super::csrf`] for where they are checked). One user's token is
//! worthless for another, and read-only users get none.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::principal::Principal;
use crate::config::Role;

/// Versions the token's input, so a future change of scheme cannot
/// collide with this one.
const TOKEN_CONTEXT: &[u8] = b"jobqueue-dashboard csrf v1";

type HmacSha256 = Hmac<Sha256>;

/// Derives and checks the per-principal tokens of one router.
pub(crate) struct CsrfTokens {
    secret: Vec<u8>,
}

impl CsrfTokens {
    /// Tokens under `secret`, or under a fresh random secret (244 bits from
    /// the OS-seeded CSPRNG behind UUID v4).
    pub(crate) fn new(secret: Option<&str>) -> Self {
        let secret = match secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                let mut random = uuid::Uuid::new_v4().as_bytes().to_vec();
                random.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                random
            }
        };
        Self { secret }
    }

    /// The MAC of `who`'s identity, ready for a final step.
    fn mac(&self, who: &Principal) -> HmacSha256 {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        for part in [
            TOKEN_CONTEXT,
            who.source.tag().as_bytes(),
            who.role.as_str().as_bytes(),
            who.name.as_bytes(),
        ] {
            // Length-prefixed, so no two identities give the same input.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// `who`'s token (64 hex digits), or `None` for a read-only caller:
    /// they may change nothing, so their pages carry no token.
    pub(crate) fn token_for(&self, who: &Principal) -> Option<String> {
        if who.role != Role::Operator {
            return None;
        }
        let tag = self.mac(who).finalize().into_bytes();
        Some(tag.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// True when `given` is `who`'s token (compared in constant time).
    pub(crate) fn verify(&self, who: &Principal, given: &str) -> bool {
        let Some(bytes) = decode_hex(given) else {
            return false;
        };
        self.mac(who).verify_slice(&bytes).is_ok()
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::principal::PrincipalSource;

    fn who(name: &str, role: Role, source: PrincipalSource) -> Principal {
        Principal {
            name: name.to_owned(),
            role,
            source,
            client: None,
        }
    }

    #[test]
    fn tokens_differ_per_principal_and_secret() {
        let tokens = CsrfTokens::new(Some("s"));
        let ada = who("ada", Role::Operator, PrincipalSource::Basic);
        let token = tokens.token_for(&ada).unwrap();
        assert_eq!(token.len(), 64);
        assert!(tokens.verify(&ada, &token));
        assert!(!tokens.verify(&who("bob", Role::Operator, PrincipalSource::Basic), &token));
        assert!(!tokens.verify(
            &who("ada", Role::Operator, PrincipalSource::HostUser),
            &token
        ));
        assert!(!CsrfTokens::new(Some("t")).verify(&ada, &token));
        assert_eq!(CsrfTokens::new(Some("s")).token_for(&ada), Some(token));
        assert_eq!(
            tokens.token_for(&who("ada", Role::ReadOnly, PrincipalSource::Basic)),
            None
        );
        assert!(!tokens.verify(&ada, "zz"));
    }
}
