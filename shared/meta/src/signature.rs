//! `X-Hub-Signature-256`: Meta signs every webhook POST with HMAC-SHA256 of the raw body,
//! keyed by the app secret, sent as `sha256=<64 hex digits>`.
//!
//! The check runs on the bytes exactly as received: re-serialised JSON (or a body that API
//! Gateway base64-encoded and nobody decoded) has different bytes and would never match.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "sha256=";
const DIGEST_HEX_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("X-Hub-Signature-256 header is malformed: {0}")]
    Malformed(MalformedSignature),
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Why a signature header could not even be compared. Carries no part of the header, so
/// the error is safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedSignature {
    #[error("no `sha256=` prefix")]
    MissingPrefix,
    #[error("digest is not 64 hex digits long")]
    WrongLength,
    #[error("digest is not hexadecimal")]
    BadHex,
}

/// Checks `header` (the value of `X-Hub-Signature-256`) against `raw_body`.
///
/// Upper- and lowercase hex are both accepted. The comparison is constant-time, so the
/// time taken says nothing about how many leading bytes of a forged digest were right.
pub fn verify_signature(
    app_secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(SignatureError::Malformed(MalformedSignature::MissingPrefix))?;
    if hex_digest.len() != DIGEST_HEX_LEN {
        return Err(SignatureError::Malformed(MalformedSignature::WrongLength));
    }
    let mut expected = [0_u8; DIGEST_HEX_LEN / 2];
    hex::decode_to_slice(hex_digest, &mut expected)
        .map_err(|_| SignatureError::Malformed(MalformedSignature::BadHex))?;
    mac(app_secret, raw_body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The full `X-Hub-Signature-256` value Meta would send for `raw_body`, lowercase hex.
pub fn sign(app_secret: &[u8], raw_body: &[u8]) -> String {
    let digest = mac(app_secret, raw_body).finalize().into_bytes();
    let mut header = String::with_capacity(PREFIX.len() + DIGEST_HEX_LEN);
    header.push_str(PREFIX);
    header.push_str(&hex::encode(digest));
    header
}

fn mac(app_secret: &[u8], raw_body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so this cannot fail;
    // the Result only exists because `KeyInit` is shared with fixed-key-size MACs.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(app_secret)
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(raw_body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"6d1f2c9a0b7e4f3aa1c2d3e4f5a6b7c8";
    const BODY: &[u8] = br#"{"object":"page","entry":[]}"#;

    #[test]
    fn when_signed_with_the_app_secret_then_it_verifies() {
        let header = sign(SECRET, BODY);
        assert!(header.starts_with("sha256="));
        assert_eq!(header.len(), 7 + 64);
        assert_eq!(verify_signature(SECRET, BODY, Some(&header)), Ok(()));
    }

    #[test]
    fn when_known_vector_then_digest_matches_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe".
        let header = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            header,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn when_one_body_byte_differs_then_mismatch() {
        let header = sign(SECRET, BODY);
        let mut tampered = BODY.to_vec();
        tampered[2] ^= 0x01;
        assert_eq!(
            verify_signature(SECRET, &tampered, Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn when_signed_with_another_secret_then_mismatch() {
        let header = sign(b"another-app-secret-0000000000000", BODY);
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn when_header_is_missing_then_missing() {
        assert_eq!(
            verify_signature(SECRET, BODY, None),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn when_prefix_is_not_sha256_then_malformed() {
        let header = sign(SECRET, BODY);
        let digest = &header["sha256=".len()..];
        for bad in [
            digest.to_owned(),
            format!("sha1={digest}"),
            format!("SHA256={digest}"),
        ] {
            assert_eq!(
                verify_signature(SECRET, BODY, Some(&bad)),
                Err(SignatureError::Malformed(MalformedSignature::MissingPrefix)),
                "{bad}"
            );
        }
    }

    #[test]
    fn when_digest_has_the_wrong_length_then_malformed() {
        let header = sign(SECRET, BODY);
        for bad in [
            &header[..header.len() - 1],
            &header[..header.len() - 2],
            "sha256=",
        ] {
            assert_eq!(
                verify_signature(SECRET, BODY, Some(bad)),
                Err(SignatureError::Malformed(MalformedSignature::WrongLength)),
                "{bad}"
            );
        }
        let too_long = format!("{header}00");
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&too_long)),
            Err(SignatureError::Malformed(MalformedSignature::WrongLength))
        );
    }

    #[test]
    fn when_digest_is_not_hex_then_malformed() {
        let bad = format!("sha256={}", "zz".repeat(32));
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&bad)),
            Err(SignatureError::Malformed(MalformedSignature::BadHex))
        );
    }

    #[test]
    fn when_digest_is_uppercase_hex_then_it_verifies() {
        let header = sign(SECRET, BODY);
        let upper = format!("sha256={}", header["sha256=".len()..].to_ascii_uppercase());
        assert_ne!(upper, header);
        assert_eq!(verify_signature(SECRET, BODY, Some(&upper)), Ok(()));
    }
}
