//! Passwords and confirmation codes: Argon2id, computed off the async runtime, with a bound on
//! how many hashes run at once so a login storm cannot stall the other chats.

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

/// Hashes and checks secrets. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    password: Argon2<'static>,
    /// Codes live five minutes and allow five tries: a light hash keeps them out of plain
    /// sight at rest without costing a password hash each.
    code: Argon2<'static>,
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
        let code_params =
            Params::new(1024, 1, 1, None).map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Hasher {
            password: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            code: Argon2::new(Algorithm::Argon2id, Version::V0x13, code_params),
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

    pub async fn hash_code(&self, code: &str) -> Result<String, AuthError> {
        let argon = self.code.clone();
        let code = code.to_owned();
        self.blocking(move || hash(&argon, &code)).await?
    }

    pub async fn verify_code(&self, candidate: &str, stored: &str) -> Result<bool, AuthError> {
        let argon = self.code.clone();
        let (candidate, stored) = (candidate.to_owned(), stored.to_owned());
        self.blocking(move || verify(&argon, &candidate, &stored))
            .await
    }
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
        let code = new_code();
        assert_eq!(code.len(), 6);
        let stored = h.hash_code(&code).await.unwrap();
        assert!(!stored.contains(&code));
        assert!(h.verify_code(&code, &stored).await.unwrap());
    }

    #[test]
    fn codes_as_typed() {
        assert_eq!(parse_code(" 123 456 "), Some("123456".into()));
        assert_eq!(parse_code("12-34-56"), Some("123456".into()));
        assert_eq!(parse_code("12345"), None);
        assert_eq!(parse_code("12345a"), None);
    }
}
