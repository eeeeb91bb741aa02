//! Identifiers in the shapes AWS gives them.

use std::cell::RefCell;

use rand::distr::{Distribution, StandardUniform};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

thread_local! {
    static PER_REQUEST: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

/// Random bits for the ids minted on every request (request, extended, trace ids): a
/// per-thread generator seeded from the OS's entropy, cheaper than the cryptographic one.
/// These ids must be unique, not unguessable: nothing treats one as a secret.
pub fn per_request_random<T>() -> T
where
    StandardUniform: Distribution<T>,
{
    PER_REQUEST.with(|r| r.borrow_mut().random())
}

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A random lowercase alphanumeric id of `len` characters, as AWS's resource ids are.
pub fn short_id(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// RestApi ids: 10 characters (`a1b2c3d4e5`).
pub fn rest_api_id() -> String {
    short_id(10)
}

/// Root resource ids are 10 characters; other resources 6.
pub fn root_resource_id() -> String {
    short_id(10)
}

/// Resource ids (non-root): 6 characters.
pub fn resource_id() -> String {
    short_id(6)
}

/// Deployment ids: 6 characters.
pub fn deployment_id() -> String {
    short_id(6)
}

/// The `cacheNamespace` AWS assigns an integration by default: the resource id.
pub fn cache_namespace(resource_id: &str) -> String {
    resource_id.to_string()
}

/// A request id in UUID v4 form, as `x-amzn-RequestId` carries it.
pub fn request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut b: [u8; 16] = per_request_random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = [0u8; 36];
    let mut at = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[at] = b'-';
            at += 1;
        }
        out[at] = HEX[(byte >> 4) as usize];
        out[at + 1] = HEX[(byte & 0xf) as usize];
        at += 2;
    }
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

/// The `extendedRequestId` / `x-amz-apigw-id` form: 16 characters, base64-ish.
pub fn extended_request_id() -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // 62^10 < 2^64: one draw gives ten characters, a second the other five.
    let mut out = [b'='; 16];
    let (mut hi, mut lo): (u64, u64) = per_request_random();
    for (i, c) in out.iter_mut().take(15).enumerate() {
        let bits = if i < 10 { &mut hi } else { &mut lo };
        *c = B64[(*bits % 62) as usize];
        *bits /= 62;
    }
    String::from_utf8(out.to_vec()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        let id = rest_api_id();
        assert_eq!(id.len(), 10);
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(resource_id().len(), 6);
        let rid = request_id();
        assert_eq!(rid.len(), 36);
        assert_eq!(&rid[14..15], "4");
    }
}
