//! Timestamps as SigV4 writes them: `20240115T123456Z` (ISO 8601 basic format, UTC), and the
//! HTTP `Date` forms a request may carry instead of `X-Amz-Date`. Epoch seconds in, epoch
//! seconds out; no clock.

/// The last second SigV4's four-digit year can write: 9999-12-31T23:59:59Z.
pub(crate) const MAX_TIME: i64 = 253_402_300_799;

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    fn from_epoch(time: i64) -> Civil {
        let (year, month, day) = civil_from_days(time.div_euclid(86_400));
        let seconds = time.rem_euclid(86_400) as u32;
        Civil {
            year,
            month,
            day,
            hour: seconds / 3600,
            minute: seconds / 60 % 60,
            second: seconds % 60,
        }
    }

    /// Epoch seconds, or `None` when a field is out of range (month 13, February 30, 24:00).
    fn to_epoch(&self) -> Option<i64> {
        let valid = (1..=12).contains(&self.month)
            && (1..=days_in_month(self.year, self.month)).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        valid.then(|| {
            days_from_civil(self.year, self.month, self.day) * 86_400
                + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
        })
    }
}

/// `20240115T123456Z`. `time` must be within `0..=MAX_TIME`.
pub(crate) fn format_amz_date(time: i64) -> String {
    let c = Civil::from_epoch(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The `Date` header botocore writes when a request already had one:
/// `email.utils.formatdate(ts)`, e.g. `Mon, 15 Jan 2024 12:34:56 -0000`.
pub(crate) fn format_botocore_date(time: i64) -> String {
    let c = Civil::from_epoch(time);
    let weekday = WEEKDAYS[time.div_euclid(86_400).rem_euclid(7) as usize];
    format!(
        "{weekday}, {:02} {} {:04} {:02}:{:02}:{:02} -0000",
        c.day,
        MONTHS[c.month as usize - 1],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u32, |n, d| {
        n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Parses `YYYYMMDD'T'HHMMSS'Z'` strictly (16 characters, a real calendar date).
pub(crate) fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    Civil {
        year: i64::from(digits(&b[0..4])?),
        month: digits(&b[4..6])?,
        day: digits(&b[6..8])?,
        hour: digits(&b[9..11])?,
        minute: digits(&b[11..13])?,
        second: digits(&b[13..15])?,
    }
    .to_epoch()
}

/// Parses an HTTP `Date`: `Mon, 15 Jan 2024 12:34:56 GMT` (RFC 7231's IMF-fixdate), or with
/// `-0000` / `+0000` / `UT` / `UTC` for the zone as Python's `email.utils.formatdate` writes it.
/// The weekday is optional and not checked.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = match s.split_once(',') {
        Some((_weekday, rest)) => rest.trim_start(),
        None => s,
    };
    let mut fields = s.split_ascii_whitespace();
    let day = digits(fields.next()?.as_bytes())?;
    let month_name = fields.next()?;
    let month = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month_name))? as u32
        + 1;
    let year = digits(fields.next()?.as_bytes())?;
    let mut clock = fields.next()?.split(':');
    let hour = digits(clock.next()?.as_bytes())?;
    let minute = digits(clock.next()?.as_bytes())?;
    let second = digits(clock.next()?.as_bytes())?;
    let zone = fields.next()?;
    if clock.next().is_some()
        || fields.next().is_some()
        || !matches!(zone, "GMT" | "UT" | "UTC" | "-0000" | "+0000" | "Z")
    {
        return None;
    }
    Civil {
        year: i64::from(year),
        month,
        day,
        hour,
        minute,
        second,
    }
    .to_epoch()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for t in [0, 1_705_322_096, 1_704_067_199, 951_782_400, MAX_TIME] {
            assert_eq!(parse_amz_date(&format_amz_date(t)), Some(t), "{t}");
        }
        assert_eq!(format_amz_date(1_705_322_096), "20240115T123456Z");
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(format_amz_date(MAX_TIME), "99991231T235959Z");
        assert_eq!(format_amz_date(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn rejects_malformed_amz_dates() {
        for s in [
            "",
            "201",
            "2024-01-15T12:34:56Z",
            "20240115T123456",
            "20240115t123456Z",
            "20240230T000000Z",
            "20231301T000000Z",
            "20240115T240000Z",
            "20240115T126000Z",
            "2024011 T123456Z",
            "+0240115T123456Z",
        ] {
            assert_eq!(parse_amz_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn http_dates_as_clients_write_them() {
        assert_eq!(
            format_botocore_date(1_705_322_096),
            "Mon, 15 Jan 2024 12:34:56 -0000"
        );
        assert_eq!(format_botocore_date(0), "Thu, 01 Jan 1970 00:00:00 -0000");
        assert_eq!(
            parse_http_date("Mon, 15 Jan 2024 12:34:56 GMT"),
            Some(1_705_322_096)
        );
        assert_eq!(
            parse_http_date("Mon, 15 Jan 2024 12:34:56 -0000"),
            Some(1_705_322_096)
        );
        assert_eq!(
            parse_http_date("15 Jan 2024 12:34:56 GMT"),
            Some(1_705_322_096)
        );
        assert_eq!(parse_http_date("Mon, 15 Jan 2024 12:34:56 +0100"), None);
        assert_eq!(parse_http_date("Mon, 31 Feb 2024 12:34:56 GMT"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
