//! Matching what a caller sends against the configured credentials: an
//! `Authorization` header (bearer token or basic auth), or the user name
//! and password of the sign-in form. Secrets are compared as SHA-256
//! digests in constant time (no early exit, no length leak), and every
//! credential is compared (which one matched, or whether any did, does
//! not show in the time taken).

use base64::Engine;
use sha2::{Digest, Sha256};

use super::principal::{Principal, PrincipalSource};
use crate::config::{Credential, Role};

/// The kind of credential, as a session records it.
pub(crate) const KIND_BASIC: &str = "basic";
/// See [`KIND_BASIC`].
pub(crate) const KIND_BEARER: &str = "bearer";

/// True when `given` is `secret`, compared in constant time over their
/// SHA-256 digests (the time says nothing about either's length).
pub(crate) fn secret_eq(secret: &str, given: &str) -> bool {
    let (a, b) = (Sha256::digest(secret), Sha256::digest(given));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The first credential `matches` accepts, after asking every one.
fn first_match(
    credentials: &[Credential],
    mut matches: impl FnMut(&Credential) -> bool,
) -> Option<&Credential> {
    credentials.iter().fold(
        None,
        |found, c| if matches(c) { found.or(Some(c)) } else { found },
    )
}

/// The principal a matched credential makes, recognised by `source`.
fn principal_of(credential: &Credential, source: PrincipalSource) -> Principal {
    let (name, role) = match credential {
        Credential::Bearer { label, role, .. } => (label, *role),
        Credential::Basic { user, role, .. } => (user, *role),
    };
    Principal::new(name, role, source)
}

/// The user name of a basic-auth `Authorization` header value.
pub(crate) fn basic_user_name(header_value: &str) -> Option<String> {
    let (scheme, rest) = header_value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    decoded.split_once(':').map(|(user, _)| user.to_owned())
}

/// The principal for an `Authorization` header value, if it matches.
pub(crate) fn match_header(credentials: &[Credential], header_value: &str) -> Option<Principal> {
    let (scheme, rest) = header_value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        let found = first_match(
            credentials,
            |c| matches!(c, Credential::Bearer { token, .. } if secret_eq(token, rest)),
        )?;
        Some(principal_of(found, PrincipalSource::Bearer))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (given_user, given_password) = decoded.split_once(':')?;
        let found = first_match(credentials, |c| match c {
            Credential::Basic { user, password, .. } => {
                secret_eq(user, given_user) & secret_eq(password, given_password)
            }
            Credential::Bearer { .. } => false,
        })?;
        Some(principal_of(found, PrincipalSource::Basic))
    } else {
        None
    }
}

/// The credential the sign-in form's `user` and `password` name: a
/// basic-auth user and password, or a bearer token as the password (with
/// `user` empty or the token's label). Returns the credential's kind
/// ([`KIND_BASIC`], [`KIND_BEARER`]), name and role.
pub(crate) fn match_sign_in(
    credentials: &[Credential],
    given_user: &str,
    given_password: &str,
) -> Option<(&'static str, String, Role)> {
    let found = first_match(credentials, |c| match c {
        Credential::Basic { user, password, .. } => {
            secret_eq(user, given_user) & secret_eq(password, given_password)
        }
        Credential::Bearer { token, label, .. } => {
            (given_user.is_empty() | secret_eq(label, given_user))
                & secret_eq(token, given_password)
        }
    })?;
    Some(match found {
        Credential::Basic { user, role, .. } => (KIND_BASIC, user.clone(), *role),
        Credential::Bearer { label, role, .. } => (KIND_BEARER, label.clone(), *role),
    })
}

/// The role the configuration gives now to the credential of `kind` named
/// `name` (a session's), or `None` when it is no longer configured. A
/// session records the name, not which secret signed it in, so when two
/// credentials share a name the least privileged role wins: signing in
/// with the read-only one of them must not yield an operator session.
pub(crate) fn current_role(credentials: &[Credential], kind: &str, name: &str) -> Option<Role> {
    credentials
        .iter()
        .filter_map(|c| match c {
            Credential::Basic { user, role, .. } if kind == KIND_BASIC && user == name => {
                Some(*role)
            }
            Credential::Bearer { label, role, .. } if kind == KIND_BEARER && label == name => {
                Some(*role)
            }
            _ => None,
        })
        .reduce(|a, b| if a == Role::ReadOnly { a } else { b })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Vec<Credential> {
        vec![
            Credential::Bearer {
                token: "t0k".into(),
                label: "ci".into(),
                role: Role::ReadOnly,
            },
            Credential::Basic {
                user: "ops".into(),
                password: "pw:x".into(),
                role: Role::Operator,
            },
        ]
    }

    #[test]
    fn a_name_shared_by_two_credentials_gets_the_lesser_role() {
        for order in [
            [Role::Operator, Role::ReadOnly],
            [Role::ReadOnly, Role::Operator],
        ] {
            let shared: Vec<Credential> = order
                .iter()
                .enumerate()
                .map(|(i, role)| Credential::basic("ops", format!("password-number-{i}"), *role))
                .collect();
            assert_eq!(
                current_role(&shared, KIND_BASIC, "ops"),
                Some(Role::ReadOnly)
            );
        }
        assert_eq!(
            current_role(&credentials(), KIND_BASIC, "ops"),
            Some(Role::Operator)
        );
    }

    #[test]
    fn matches_bearer_and_basic() {
        let creds = credentials();
        let p = match_header(&creds, "Bearer t0k").unwrap();
        assert_eq!(
            (p.name.as_str(), p.role, p.is_bearer()),
            ("ci", Role::ReadOnly, true)
        );
        let basic = base64::engine::general_purpose::STANDARD.encode("ops:pw:x");
        let p = match_header(&creds, &format!("Basic {basic}")).unwrap();
        assert_eq!((p.name.as_str(), p.role), ("ops", Role::Operator));
        assert!(match_header(&creds, "Bearer wrong").is_none());
        assert!(match_header(&creds, "Basic !!!").is_none());
        assert!(match_header(&creds, "Digest x").is_none());
    }

    #[test]
    fn sign_in_takes_a_user_or_a_token() {
        let creds = credentials();
        assert_eq!(
            match_sign_in(&creds, "ops", "pw:x"),
            Some((KIND_BASIC, "ops".to_owned(), Role::Operator))
        );
        assert_eq!(
            match_sign_in(&creds, "", "t0k"),
            Some((KIND_BEARER, "ci".to_owned(), Role::ReadOnly))
        );
        assert_eq!(
            match_sign_in(&creds, "ci", "t0k").map(|m| m.0),
            Some(KIND_BEARER)
        );
        for (user, password) in [
            ("ops", "pw"),
            ("ops", ""),
            ("", ""),
            ("bob", "t0k"),
            ("ci", "pw:x"),
        ] {
            assert_eq!(
                match_sign_in(&creds, user, password),
                None,
                "{user}:{password}"
            );
        }
        assert_eq!(
            current_role(&creds, KIND_BASIC, "ops"),
            Some(Role::Operator)
        );
        assert_eq!(current_role(&creds, KIND_BEARER, "ops"), None);
        assert!(secret_eq("a", "a") && !secret_eq("a", "ab") && !secret_eq("", "a"));
    }
}
