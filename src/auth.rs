//! Passwords and confirmation codes. Passwords: Argon2id, computed off the async runtime,
//! with a bound on how many hashes run at once so a login storm cannot stall the other
//! chats. Codes: HMAC-SHA-256 under a key kept apart from the database ([`CodeSeal`]).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use tokio::sync::Semaphore;

use crate::config::Argon2Config;
use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("hashing failed: {0}")]
    Hash(String),
    #[error("the hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Hashes and checks passwords. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    password: Argon2<'static>,
    permits: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(config: Argon2Config) -> Result<Hasher, AuthError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Hasher {
            password: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            permits: Arc::new(Semaphore::new(config.max_concurrent)),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        Ok(tokio::task::spawn_blocking(work).await?)
    }

    /// The PHC string of a new password (algorithm, parameters, salt, hash).
    pub async fn hash_password(&self, password: &Password) -> Result<String, AuthError> {
        let argon = self.password.clone();
        let secret = password.expose().to_owned();
        self.blocking(move || hash(&argon, &secret)).await?
    }

    /// Whether `candidate` is the password behind `stored`.
    pub async fn verify_password(&self, candidate: &str, stored: &str) -> Result<bool, AuthError> {
        let argon = self.password.clone();
        let (candidate, stored) = (candidate.to_owned(), stored.to_owned());
        self.blocking(move || verify(&argon, &candidate, &stored))
            .await
    }
}

/// Confirmation codes at rest: HMAC-SHA-256 under `CODE_SECRET`, a key that is not in the
/// database. A six-digit code under any unkeyed hash falls to a million guesses in seconds;
/// under a key the database does not hold, a copy of the database gives up no live code.
/// The code's owner (cabinet, chat, purpose) is sealed with it, so a stored seal is worth
/// nothing on another code's row.
#[derive(Clone)]
pub struct CodeSeal {
    key: Arc<[u8]>,
}

/// Whom a code was made for.
#[derive(Debug, Clone, Copy)]
pub struct CodeOwner {
    pub cabinet: i64,
    pub chat: i64,
    pub purpose: crate::domain::OtpPurpose,
}

impl CodeSeal {
    pub fn new(key: &str) -> CodeSeal {
        CodeSeal {
            key: key.as_bytes().into(),
        }
    }

    /// The stored form of `code`, made for `owner`: hexadecimal HMAC-SHA-256.
    pub fn seal(&self, owner: CodeOwner, code: &str) -> String {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(
            format!(
                "{}:{}:{}:{code}",
                owner.cabinet,
                owner.chat,
                owner.purpose.as_str()
            )
            .as_bytes(),
        );
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether `candidate` is the code sealed in `stored` for `owner` (compared in constant
    /// time).
    pub fn opens(&self, owner: CodeOwner, candidate: &str, stored: &str) -> bool {
        same_secret(self.seal(owner, candidate).as_bytes(), stored.as_bytes())
    }
}

/// Equal or not, in a time that depends only on the expected secret's length.
pub fn same_secret(presented: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(presented.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= presented.get(i).copied().unwrap_or(0) ^ e;
    }
    std::hint::black_box(diff) == 0
}

fn hash(argon: &Argon2<'_>, secret: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

fn verify(argon: &Argon2<'_>, candidate: &str, stored: &str) -> bool {
    // The parameters travel in the stored string, so older hashes keep verifying after the
    // configuration is made stronger.
    PasswordHash::new(stored)
        .is_ok_and(|parsed| argon.verify_password(candidate.as_bytes(), &parsed).is_ok())
}

/// A six-digit confirmation code from the operating system's CSPRNG.
pub fn new_code() -> String {
    use rand::TryRngCore;
    format!(
        "{:06}",
        rand::rngs::OsRng.unwrap_err().random_range(0..1_000_000u32)
    )
}

/// The six digits of what a parent typed as a code (spaces and dashes ignored), if that is
/// what it is.
pub fn parse_code(input: &str) -> Option<String> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> Hasher {
        Hasher::new(Argon2Config {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 2,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn passwords_and_codes_verify() {
        let h = hasher();
        let iin = crate::domain::Iin::parse("061211600012").unwrap();
        let phone = crate::domain::Phone::parse("+77011234567").unwrap();
        let p = Password::parse("көктемгі жаңбыр", &iin, &phone).unwrap();
        let stored = h.hash_password(&p).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(h.verify_password("көктемгі жаңбыр", &stored).await.unwrap());
        assert!(
            !h.verify_password("көктемгі жаңбыр!", &stored)
                .await
                .unwrap()
        );
        assert!(!h.verify_password("x", "not a hash").await.unwrap());
    }

    #[test]
    fn codes_are_sealed_under_the_key_for_their_owner() {
        use crate::domain::OtpPurpose;
        let seal = CodeSeal::new("a-key-of-at-least-thirty-two-characters");
        let owner = CodeOwner {
            cabinet: 7,
            chat: 100,
            purpose: OtpPurpose::Login,
        };
        let code = new_code();
        assert_eq!(code.len(), 6);
        let stored = seal.seal(owner, &code);
        assert_eq!(stored.len(), 64);
        assert!(!stored.contains(&code));
        assert!(seal.opens(owner, &code, &stored));
        let wrong = if code == "000000" { "000001" } else { "000000" };
        assert!(!seal.opens(owner, wrong, &stored));
        // Another chat, cabinet or purpose: the same code does not open it.
        let other_chat = CodeOwner { chat: 101, ..owner };
        assert!(!seal.opens(other_chat, &code, &stored));
        let reset = CodeOwner {
            purpose: OtpPurpose::Reset,
            ..owner
        };
        assert!(!seal.opens(reset, &code, &stored));
        // Another key: nothing opens.
        let other_key = CodeSeal::new("another-key-of-at-least-thirty-two-chars");
        assert!(!other_key.opens(owner, &code, &stored));
    }

    #[test]
    fn secrets_compare_by_content_and_length() {
        assert!(same_secret(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdeX", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdef0", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcde", b"0123456789abcdef"));
        assert!(!same_secret(b"", b"0123456789abcdef"));
    }

    #[test]
    fn codes_as_typed() {
        assert_eq!(parse_code(" 123 456 "), Some("123456".into()));
        assert_eq!(parse_code("12-34-56"), Some("123456".into()));
        assert_eq!(parse_code("12345"), None);
        assert_eq!(parse_code("12345a"), None);
    }
}
