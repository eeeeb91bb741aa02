//! The identifiers Lambda hands a runtime: request ids, X-Ray trace ids, log stream names.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch (`Lambda-Runtime-Deadline-Ms` counts in them).
pub(crate) fn epoch_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A request id: a random (version 4) UUID, as Lambda's.
pub(crate) fn request_id() -> String {
    uuid_v4(rand::random())
}

fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `Lambda-Runtime-Trace-Id`: `Root=1-{epoch seconds, 8 hex}-{24 hex};Parent={16 hex};Sampled=0`.
pub(crate) fn trace_id(epoch_secs: u64) -> String {
    let root: [u8; 12] = rand::random();
    let parent: [u8; 8] = rand::random();
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        epoch_secs as u32,
        hex(&root),
        hex(&parent)
    )
}

/// `AWS_LAMBDA_LOG_STREAM_NAME`: `YYYY/MM/DD/[$LATEST]{32 hex}`, the date in UTC.
pub(crate) fn log_stream_name(epoch_secs: u64) -> String {
    let (y, m, d) = civil_date(epoch_secs / 86_400);
    let instance: [u8; 16] = rand::random();
    format!("{y:04}/{m:02}/{d:02}/[$LATEST]{}", hex(&instance))
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_date(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_hex(s: &str, len: usize) -> bool {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    #[test]
    fn request_ids_are_version_4_uuids() {
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        let id = request_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{id}");
        assert!("89ab".contains(&parts[3][..1]), "{id}");
        assert_ne!(request_id(), id);
    }

    #[test]
    fn trace_ids_have_xrays_shape() {
        let t = trace_id(0x6543_21ab);
        let rest = t.strip_prefix("Root=1-654321ab-").unwrap();
        let (root, rest) = rest.split_once(";Parent=").unwrap();
        let (parent, sampled) = rest.split_once(';').unwrap();
        assert!(is_hex(root, 24) && is_hex(parent, 16), "{t}");
        assert_eq!(sampled, "Sampled=0");
    }

    #[test]
    fn log_stream_names_carry_the_utc_date() {
        // 2024-02-29T23:59:59Z
        let name = log_stream_name(1_709_251_199);
        let hex_part = name.strip_prefix("2024/02/29/[$LATEST]").unwrap();
        assert!(is_hex(hex_part, 32), "{name}");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(59), (1970, 3, 1));
        assert_eq!(civil_date(10_957), (2000, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(19_782), (2024, 2, 29));
        assert_eq!(civil_date(20_818), (2026, 12, 31));
        assert_eq!(civil_date(20_819), (2027, 1, 1));
    }
}
