//! Personal data encrypted at rest (个人信息加密存储): SM4 in GCM mode, one
//! random 96-bit nonce per value, the column name as associated data (so a
//! value cannot be moved to another column unnoticed). A stored value reads
//! `v1:` followed by the base64 of nonce ‖ ciphertext ‖ tag.
//!
//! The 128-bit [`FieldKey`] comes from `YUANJIANG_FIELD_KEY` (32 hex digits)
//! or from the key file `yuanjiang.key` in the data directory, which is
//! created on first start, readable by its owner only. Losing the key loses
//! the personal data: back the key up apart from the database.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sm3::{Digest, Sm3};
use thiserror::Error;

use crate::{Backend, DbSettings};

/// SM4-GCM with the standard 96-bit nonce and 128-bit tag (RFC 8998).
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Environment variable holding the key as 32 hex digits.
pub const KEY_ENV: &str = "YUANJIANG_FIELD_KEY";
/// Environment variable naming the data directory that holds the key file.
pub const DATA_DIR_ENV: &str = "YUANJIANG_DATA_DIR";
/// Name of the key file in the data directory.
pub const KEY_FILE: &str = "yuanjiang.key";

/// Prefix of values encrypted with the format described in the module doc.
const V1: &str = "v1:";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A failure to obtain the key, or to encrypt or decrypt with it. Messages
/// never contain the key or a plaintext.
#[derive(Debug, Error)]
pub enum CryptoError {
    /// The key is not 32 hex digits.
    #[error("the field key from {from} is not 32 hex digits (a 128-bit key)")]
    BadKey {
        /// Where it came from: the variable or the file.
        from: String,
    },
    /// The key file could not be read or created.
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The operating system gave no random bytes.
    #[error("no random bytes from the operating system")]
    Random,
    /// A value did not decrypt: another key, or a damaged value.
    #[error("cannot decrypt {column}: wrong key or damaged value")]
    Decrypt {
        /// The column.
        column: &'static str,
    },
    /// The database's personal data was encrypted with another key.
    #[error(
        "the field key does not match the key this database was encrypted with (its fingerprint is {stored})"
    )]
    WrongKey {
        /// Fingerprint of the key the database expects.
        stored: String,
    },
}

impl CryptoError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::BadKey { .. } => "invalid_field_key",
            CryptoError::KeyFile { .. } => "field_key_file",
            CryptoError::Random => "no_randomness",
            CryptoError::Decrypt { .. } => "decryption_failed",
            CryptoError::WrongKey { .. } => "wrong_field_key",
        }
    }

    /// The message in Chinese (the English one is `Display`).
    pub fn zh(&self) -> String {
        match self {
            CryptoError::BadKey { from } => {
                format!("来自 {from} 的字段密钥不是32位十六进制数（128位密钥）")
            }
            CryptoError::KeyFile { path, source } => {
                format!("无法读取或创建密钥文件 {}：{source}", path.display())
            }
            CryptoError::Random => "无法从操作系统获取随机数".into(),
            CryptoError::Decrypt { column } => {
                format!("无法解密 {column}：密钥不符或数据已损坏")
            }
            CryptoError::WrongKey { stored } => {
                format!("字段密钥与本数据库加密时所用密钥不符（数据库要求的密钥指纹为 {stored}）")
            }
        }
    }
}

/// The key that encrypts personal data. `Debug` shows `FieldKey(***)`, and
/// there is no `Display`: the key never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct FieldKey([u8; 16]);

impl fmt::Debug for FieldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FieldKey(***)")
    }
}

/// Where the key came from, for the start-up log (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `YUANJIANG_FIELD_KEY` variable.
    Environment,
    /// An existing key file.
    File(PathBuf),
    /// A key file created now.
    Created(PathBuf),
    /// A random key for an in-memory database, gone with it.
    Ephemeral,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Environment => write!(f, "environment variable {KEY_ENV}"),
            KeySource::File(p) => write!(f, "key file {}", p.display()),
            KeySource::Created(p) => write!(f, "new key file {}", p.display()),
            KeySource::Ephemeral => f.write_str("random key for an in-memory database"),
        }
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| CryptoError::Random)?;
    Ok(buf)
}

impl FieldKey {
    /// A new random key.
    pub fn generate() -> Result<FieldKey, CryptoError> {
        random_bytes().map(FieldKey)
    }

    /// Parses 32 hex digits (surrounding white space ignored); `from` says
    /// where they came from, for the error.
    pub fn from_hex(hex: &str, from: &str) -> Result<FieldKey, CryptoError> {
        let bad = || CryptoError::BadKey {
            from: from.to_owned(),
        };
        let hex = hex.trim().as_bytes();
        if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad());
        }
        let mut key = [0u8; 16];
        for (byte, pair) in key.iter_mut().zip(hex.chunks(2)) {
            let digits = std::str::from_utf8(pair).map_err(|_| bad())?;
            *byte = u8::from_str_radix(digits, 16).map_err(|_| bad())?;
        }
        Ok(FieldKey(key))
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A fingerprint that identifies the key without revealing it: the
    /// first 16 hex digits of SM3 over a fixed label and the key.
    pub fn fingerprint(&self) -> String {
        let mut h = Sm3::new();
        h.update(b"yuanjiang field key fingerprint v1\0");
        h.update(self.0);
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The key for the database `settings` names: `YUANJIANG_FIELD_KEY` if
    /// set; else the key file in `YUANJIANG_DATA_DIR` if set, else beside
    /// the SQLite file, else (PostgreSQL) in the working directory, created
    /// if absent. An in-memory SQLite database gets a random key.
    pub fn for_database(settings: &DbSettings) -> Result<(FieldKey, KeySource), CryptoError> {
        if let Ok(hex) = std::env::var(KEY_ENV)
            && !hex.trim().is_empty()
        {
            return Ok((FieldKey::from_hex(&hex, KEY_ENV)?, KeySource::Environment));
        }
        let dir = match std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => match settings.backend() {
                Backend::Sqlite => {
                    let url = settings.url();
                    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok();
                    let file = options.as_ref().map(|o| o.get_filename().to_owned());
                    let in_memory = url.contains(":memory:")
                        || url.contains("mode=memory")
                        || file.as_ref().is_some_and(|f| {
                            f.to_string_lossy().starts_with("file:sqlx-in-memory")
                        });
                    if in_memory {
                        return Ok((FieldKey::generate()?, KeySource::Ephemeral));
                    }
                    file.and_then(|f| f.parent().map(Path::to_owned))
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or_else(|| PathBuf::from("."))
                }
                Backend::Postgres => PathBuf::from("."),
            },
        };
        FieldKey::load_or_create(&dir)
    }

    /// Reads `yuanjiang.key` in `dir`, or creates it with a new random key.
    /// The file is created with mode 0600 and filled before it appears under
    /// its name (written aside, then hard-linked), so it is never readable by
    /// others nor seen half-written, and two processes starting at once
    /// agree on one key.
    pub fn load_or_create(dir: &Path) -> Result<(FieldKey, KeySource), CryptoError> {
        let path = dir.join(KEY_FILE);
        let file_error = |source| CryptoError::KeyFile {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                warn_if_exposed(&path);
                let key = FieldKey::from_hex(&text, &path.display().to_string())?;
                return Ok((key, KeySource::File(path)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_error(e)),
        }
        let key = FieldKey::generate()?;
        let suffix: [u8; 8] = random_bytes()?;
        let tmp = dir.join(format!(
            ".{KEY_FILE}.{}.{}",
            std::process::id(),
            suffix
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ));
        let written = write_private(&tmp, &format!("{}\n", key.to_hex()))
            .and_then(|()| std::fs::hard_link(&tmp, &path));
        let _ = std::fs::remove_file(&tmp);
        match written {
            Ok(()) => {
                tracing::warn!(
                    path = %path.display(),
                    "created a new field key file; back it up apart from the database: \
                     without it the personal data cannot be read"
                );
                Ok((key, KeySource::Created(path)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another process created it first: use theirs.
                let text = std::fs::read_to_string(&path).map_err(file_error)?;
                let key = FieldKey::from_hex(&text, &path.display().to_string())?;
                Ok((key, KeySource::File(path)))
            }
            Err(e) => Err(file_error(e)),
        }
    }

    fn cipher(&self) -> Sm4Gcm {
        Sm4Gcm::new(&self.0.into())
    }

    /// Encrypts `plaintext` for `column` (e.g. `assignments.id_number`).
    pub fn encrypt(&self, column: &'static str, plaintext: &str) -> Result<String, CryptoError> {
        let nonce: [u8; NONCE_LEN] = random_bytes()?;
        let sealed = self
            .cipher()
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt { column })?;
        let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        Ok(format!("{V1}{}", BASE64.encode(raw)))
    }

    /// Decrypts a value stored by [`FieldKey::encrypt`] for the same column;
    /// another key, another column or any damage is an error, never a panic.
    pub fn decrypt(&self, column: &'static str, stored: &str) -> Result<String, CryptoError> {
        let failed = || CryptoError::Decrypt { column };
        let raw = stored
            .strip_prefix(V1)
            .and_then(|b| BASE64.decode(b).ok())
            .filter(|raw| raw.len() >= NONCE_LEN + TAG_LEN)
            .ok_or_else(failed)?;
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| failed())?;
        let plain = self
            .cipher()
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: sealed,
                    aad: column.as_bytes(),
                },
            )
            .map_err(|_| failed())?;
        String::from_utf8(plain).map_err(|_| failed())
    }
}

/// Creates `path` new, with mode 0600 from the start, and writes `text`.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Logs a warning when others than the owner may read the key file.
fn warn_if_exposed(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the field key file is readable by other users; run chmod 600 on it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// RFC 8998, appendix A.1: the SM4-GCM test vector, so the generic GCM
    /// over SM4 is checked to be the standard construction.
    #[test]
    fn sm4_gcm_matches_rfc_8998() {
        let key = FieldKey::from_hex("0123456789ABCDEFFEDCBA9876543210", "test").expect("key");
        let nonce: [u8; 12] = hex("00001234567800000000ABCD").try_into().expect("nonce");
        let aad = hex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
        let plain = hex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        );
        let sealed = key
            .cipher()
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .expect("encrypt");
        let expected = hex(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735\
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D\
             83DE3541E4C2B58177E065A9BF7B62EC",
        );
        assert_eq!(sealed, expected);
    }

    #[test]
    fn round_trip_and_failures() {
        let key = FieldKey::generate().expect("key");
        let a = key
            .encrypt("assignments.id_number", "650102199001011234")
            .expect("enc");
        let b = key
            .encrypt("assignments.id_number", "650102199001011234")
            .expect("enc");
        assert!(a.starts_with("v1:"));
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(!a.contains("650102"));
        assert_eq!(
            key.decrypt("assignments.id_number", &a).expect("dec"),
            "650102199001011234"
        );
        let other = FieldKey::generate().expect("key");
        assert!(matches!(
            other.decrypt("assignments.id_number", &a),
            Err(CryptoError::Decrypt {
                column: "assignments.id_number"
            })
        ));
        assert!(
            key.decrypt("assignments.phone", &a).is_err(),
            "bound to its column"
        );
        for damaged in ["", "v1:", "v1:!!!", "v2:AAAA", &a[..a.len() - 2]] {
            assert!(
                key.decrypt("assignments.id_number", damaged).is_err(),
                "{damaged}"
            );
        }
    }

    #[test]
    fn key_parsing_and_secrecy() {
        let key = FieldKey::from_hex(" 00112233445566778899aabbccddeeff\n", "test").expect("key");
        assert_eq!(key.to_hex(), "00112233445566778899aabbccddeeff");
        assert_eq!(format!("{key:?}"), "FieldKey(***)");
        assert_eq!(key.fingerprint().len(), 16);
        assert!(!key.fingerprint().contains("0011"));
        for bad in [
            "",
            "0011",
            "00112233445566778899aabbccddeefg",
            "é0112233445566778899aabbccddeef",
            "+0112233445566778899aabbccddeeff",
        ] {
            let err = FieldKey::from_hex(bad, "YUANJIANG_FIELD_KEY").expect_err(bad);
            assert_eq!(err.code(), "invalid_field_key");
            assert!(err.zh().contains("YUANJIANG_FIELD_KEY"));
        }
    }
}
