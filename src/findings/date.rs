//! Calendar dates (proleptic Gregorian, UTC) for policy expiry and baseline ages: only
//! parsing `YYYY-MM-DD`, printing it and counting days, so a small exact conversion to and
//! from days since 1970-01-01 (H. Hinnant's `days_from_civil`) does the job without a
//! date-time crate.

use serde::Serialize;

/// A day, as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i64);

impl Date {
    pub fn from_days(days: i64) -> Date {
        Date(days)
    }

    pub fn days(self) -> i64 {
        self.0
    }

    /// The date of a Unix time (seconds since the epoch, UTC).
    pub fn from_unix_seconds(secs: i64) -> Date {
        Date(secs.div_euclid(86_400))
    }

    pub fn from_ymd(y: i64, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (i64::from(m) + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    pub fn ymd(self) -> (i64, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    /// `YYYY-MM-DD` (exactly).
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        Date::from_ymd(num(0..4)?, num(5..7)? as u32, num(8..10)? as u32)
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(Date::parse("1970-01-01").map(Date::days), Some(0));
        assert_eq!(Date::parse("2000-03-01").map(Date::days), Some(11_017));
        // 2026-11-30 is 20_787 days after the epoch (1_795_996_800 s / 86_400).
        assert_eq!(Date::parse("2026-11-30").map(Date::days), Some(20_787));
        assert_eq!(
            Date::from_unix_seconds(1_795_996_800 + 3600).to_string(),
            "2026-11-30"
        );
    }

    #[test]
    fn round_trips_and_rejects() {
        for days in (-719_000..2_900_000).step_by(997) {
            let d = Date::from_days(days);
            assert_eq!(Date::parse(&d.to_string()), Some(d), "{d}");
        }
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "20260101",
            "2026-01-32",
            "+026-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }
}
