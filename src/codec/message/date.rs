//! RFC 5322 section 3.3 date-time, from Unix seconds and an offset.

/// Date as Unix seconds plus the local offset, formatted per RFC 5322
/// section 3.3 (`Fri, 04 Dec 2026 20:31:08 +0000`). No clock dependency:
/// the caller supplies the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Seconds since 1970-01-01T00:00:00Z, leap seconds not counted.
    pub unix_seconds: i64,
    /// Offset of the local time from UTC in minutes, east positive
    /// (`+0130` is 90).
    pub utc_offset_minutes: i16,
}

/// Local time of 1900-01-01T00:00:00, the earliest year RFC 5322 section
/// 3.3 allows.
const MIN_LOCAL_SECONDS: i64 = -2_208_988_800;
/// Local time of 9999-12-31T23:59:59, the last one with a four-digit year.
const MAX_LOCAL_SECONDS: i64 = 253_402_300_799;
/// Largest offset accepted, in minutes (23:59). Real zones stay within
/// -12:00 and +14:00.
const MAX_OFFSET_MINUTES: i16 = 23 * 60 + 59;

const SECONDS_PER_DAY: i64 = 86_400;

const WEEKDAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

impl Date {
    /// Length of a formatted date, `Fri, 04 Dec 2026 20:31:08 +0000`.
    pub const LEN: usize = 31;

    /// Creates a date from Unix seconds and the local offset in minutes.
    pub const fn new(unix_seconds: i64, utc_offset_minutes: i16) -> Self {
        Self {
            unix_seconds,
            utc_offset_minutes,
        }
    }

    /// Formats the local time as `day-name, DD Mon YYYY hh:mm:ss +hhmm`.
    ///
    /// Returns `None` when the offset exceeds 23:59 or the local time lies
    /// outside the years 1900 to 9999.
    pub fn format(&self) -> Option<[u8; Self::LEN]> {
        if self.utc_offset_minutes.unsigned_abs() > MAX_OFFSET_MINUTES.unsigned_abs() {
            return None;
        }
        let offset_seconds = i64::from(self.utc_offset_minutes) * 60;
        let local = self.unix_seconds.checked_add(offset_seconds)?;
        if !(MIN_LOCAL_SECONDS..=MAX_LOCAL_SECONDS).contains(&local) {
            return None;
        }

        let days = local.div_euclid(SECONDS_PER_DAY);
        let seconds_of_day = local.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday.
        let weekday = (days + 4).rem_euclid(7);

        let mut out = [b' '; Self::LEN];
        let month_name = MONTHS.get(usize::try_from(month - 1).ok()?)?;
        let weekday_name = WEEKDAYS.get(usize::try_from(weekday).ok()?)?;
        out[0..3].copy_from_slice(*weekday_name);
        out[3] = b',';
        write_digits(&mut out[5..7], day);
        out[8..11].copy_from_slice(*month_name);
        write_digits(&mut out[12..16], year);
        write_digits(&mut out[17..19], seconds_of_day / 3600);
        out[19] = b':';
        write_digits(&mut out[20..22], seconds_of_day / 60 % 60);
        out[22] = b':';
        write_digits(&mut out[23..25], seconds_of_day % 60);
        out[26] = if self.utc_offset_minutes < 0 {
            b'-'
        } else {
            b'+'
        };
        let offset = i64::from(self.utc_offset_minutes.unsigned_abs());
        write_digits(&mut out[27..29], offset / 60);
        write_digits(&mut out[29..31], offset % 60);
        Some(out)
    }
}

/// Writes `value` as zero-padded decimal digits filling `out`.
fn write_digits(out: &mut [u8], mut value: i64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month,
/// day), with month and day counting from 1.
///
/// Counts in 400-year eras that start on March 1st, so the leap day is the
/// last day of an era-year and month lengths follow a fixed pattern. This is
/// the civil-from-days method that Howard Hinnant describes in
/// "chrono-Compatible Low-Level Date Algorithms". `days` must lie within
/// about ±10^15 so that the shift below cannot overflow; callers pass years
/// 1900 to 9999.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Days from 0000-03-01 to 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Month counted from March = 0, so that February comes last.
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn formatted(unix_seconds: i64, offset: i16) -> Option<std::string::String> {
        Date::new(unix_seconds, offset)
            .format()
            .map(|bytes| std::string::String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn date_epoch() {
        assert_eq!(
            formatted(0, 0).as_deref(),
            Some("Thu, 01 Jan 1970 00:00:00 +0000")
        );
    }

    // Expected strings from Python 3 `email.utils.format_datetime` applied to
    // `datetime(1970, 1, 1, tzinfo=timezone.utc).astimezone(zone) + timedelta(seconds=t)`
    // with `zone = timezone(timedelta(minutes=m))`.
    #[test]
    fn date_matches_python_fixtures() {
        let cases: &[(i64, i16, &str)] = &[
            (1_796_415_068, 0, "Fri, 04 Dec 2026 20:11:08 +0000"),
            (0, -300, "Wed, 31 Dec 1969 19:00:00 -0500"),
            (0, 330, "Thu, 01 Jan 1970 05:30:00 +0530"),
            (951_782_400, 0, "Tue, 29 Feb 2000 00:00:00 +0000"),
            (4_107_542_400, 0, "Mon, 01 Mar 2100 00:00:00 +0000"),
            (4_107_456_000, 0, "Sun, 28 Feb 2100 00:00:00 +0000"),
            (2_147_483_647, 0, "Tue, 19 Jan 2038 03:14:07 +0000"),
            (2_147_483_648, 60, "Tue, 19 Jan 2038 04:14:08 +0100"),
            (-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000"),
            (-2_208_988_800, 0, "Mon, 01 Jan 1900 00:00:00 +0000"),
            (253_402_300_799, 0, "Fri, 31 Dec 9999 23:59:59 +0000"),
            (1_709_251_199, -570, "Thu, 29 Feb 2024 14:29:59 -0930"),
            (1_000_000_000, 840, "Sun, 09 Sep 2001 15:46:40 +1400"),
        ];
        for &(seconds, offset, expected) in cases {
            assert_eq!(
                formatted(seconds, offset).as_deref(),
                Some(expected),
                "{seconds} {offset}"
            );
        }
    }

    #[test]
    fn date_rejects_out_of_range() {
        assert_eq!(formatted(-2_208_988_801, 0), None);
        assert_eq!(formatted(-2_208_988_800, -1), None);
        assert_eq!(formatted(253_402_300_800, 0), None);
        assert_eq!(formatted(253_402_300_799, 1), None);
        assert_eq!(formatted(0, 1440), None);
        assert_eq!(formatted(0, -1440), None);
        assert_eq!(formatted(i64::MAX, 1439), None);
        assert_eq!(formatted(i64::MIN, -1439), None);
        assert_eq!(formatted(0, i16::MIN), None);
        assert!(formatted(0, 1439).is_some());
        assert!(formatted(0, -1439).is_some());
    }

    #[test]
    fn civil_from_days_round_trips_every_day() {
        // Walks day by day from 1900 to 2400 and checks that the date
        // advances like a calendar, so no single day is skipped or repeated.
        let mut expected = (1900, 1, 1);
        let first = MIN_LOCAL_SECONDS / SECONDS_PER_DAY;
        for days in first..first + 365 * 500 {
            assert_eq!(civil_from_days(days), expected, "day {days}");
            let (year, month, day) = expected;
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let month_len = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            expected = if day < month_len {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
        }
    }
}
