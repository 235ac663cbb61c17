//! The per-principal CSRF tokens: an HMAC-SHA256, under a secret, of how
//! the caller was recognised, their role and their name (see
//! [`super::csrf`] for where they are checked). One user's token is
//! worthless for another, and read-only users get none. A signed-in
//! browser's token also covers its session, so it ends with it.
//!
//! The sign-in and sign-out forms carry tokens of their own, in their own
//! contexts: the sign-in form's is bound to a random nonce in a cookie
//! (login CSRF), the sign-out form's to the session.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::principal::Principal;
use crate::config::Role;

/// Versions the token's input, so a future change of scheme cannot
/// collide with this one.
const TOKEN_CONTEXT: &[u8] = b"jobqueue-dashboard csrf v1";

/// Context of the sign-in form's token.
const SIGN_IN_CONTEXT: &[u8] = b"jobqueue-dashboard sign-in v1";

/// Context of the sign-out form's token.
const SIGN_OUT_CONTEXT: &[u8] = b"jobqueue-dashboard sign-out v1";

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
        let mut parts: Vec<&[u8]> = vec![
            TOKEN_CONTEXT,
            who.source.tag().as_bytes(),
            who.role.as_str().as_bytes(),
            who.name.as_bytes(),
        ];
        // A signed-in browser's token is also bound to its session.
        if let Some(session) = &who.session {
            parts.push(session.as_bytes());
        }
        self.keyed(&parts)
    }

    /// Feeds `parts` to `mac`, each length-prefixed, so no two lists of
    /// parts give the same input.
    fn feed(mac: &mut HmacSha256, parts: &[&[u8]]) {
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
    }

    /// A MAC of `parts` (the first names the context) under the secret.
    fn keyed(&self, parts: &[&[u8]]) -> HmacSha256 {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        Self::feed(&mut mac, parts);
        mac
    }

    /// The token of `subject` in `context` (64 hex digits).
    fn form_token(&self, context: &[u8], subject: &str) -> String {
        hex(&self
            .keyed(&[context, subject.as_bytes()])
            .finalize()
            .into_bytes())
    }

    /// True when `given` is the token of `subject` in `context` (compared
    /// in constant time).
    fn verify_form_token(&self, context: &[u8], subject: &str, given: &str) -> bool {
        decode_hex(given).is_some_and(|bytes| {
            self.keyed(&[context, subject.as_bytes()])
                .verify_slice(&bytes)
                .is_ok()
        })
    }

    /// The sign-in form's token for the browser holding the sign-in cookie
    /// `nonce` (login CSRF: a page elsewhere can neither read the form's
    /// token nor set the cookie).
    pub(crate) fn sign_in_token(&self, nonce: &str) -> String {
        self.form_token(SIGN_IN_CONTEXT, nonce)
    }

    /// True when `given` is the sign-in token of `nonce`.
    pub(crate) fn verify_sign_in(&self, nonce: &str, given: &str) -> bool {
        self.verify_form_token(SIGN_IN_CONTEXT, nonce, given)
    }

    /// The sign-out form's token of the session whose id hashes to
    /// `session` (read-only users sign out too, so it is not their CSRF
    /// token, which they do not get).
    pub(crate) fn sign_out_token(&self, session: &str) -> String {
        self.form_token(SIGN_OUT_CONTEXT, session)
    }

    /// True when `given` is the sign-out token of `session`.
    pub(crate) fn verify_sign_out(&self, session: &str, given: &str) -> bool {
        self.verify_form_token(SIGN_OUT_CONTEXT, session, given)
    }

    /// `who`'s token (64 hex digits), or `None` for a read-only caller:
    /// they may change nothing, so their pages carry no token.
    pub(crate) fn token_for(&self, who: &Principal) -> Option<String> {
        if who.role != Role::Operator {
            return None;
        }
        Some(hex(&self.mac(who).finalize().into_bytes()))
    }

    /// True when `given` is `who`'s token (compared in constant time).
    pub(crate) fn verify(&self, who: &Principal, given: &str) -> bool {
        let Some(bytes) = decode_hex(given) else {
            return false;
        };
        self.mac(who).verify_slice(&bytes).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        Principal::new(name, role, source)
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
        let signed_in = Principal {
            session: Some("s1".to_owned()),
            ..who("ada", Role::Operator, PrincipalSource::Session)
        };
        let session_token = tokens.token_for(&signed_in).unwrap();
        assert!(tokens.verify(&signed_in, &session_token));
        let other_session = Principal {
            session: Some("s2".to_owned()),
            ..signed_in.clone()
        };
        assert!(
            !tokens.verify(&other_session, &session_token),
            "a session's token dies with it"
        );
        let sign_in = tokens.sign_in_token("n1");
        assert!(tokens.verify_sign_in("n1", &sign_in) && !tokens.verify_sign_in("n2", &sign_in));
        let sign_out = tokens.sign_out_token("s1");
        assert!(
            tokens.verify_sign_out("s1", &sign_out) && !tokens.verify_sign_out("s2", &sign_out)
        );
        assert!(!tokens.verify_sign_out("s1", &sign_in), "contexts differ");
    }
}
