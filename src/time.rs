//! Calendar arithmetic: converting between dates and the scenario's time axis.
//!
//! Time 0 may be anchored to a calendar date; times are then counted in the
//! scenario's unit from midnight (UTC, no leap seconds) of that date. The civil
//! date algorithms are Howard Hinnant's `days_from_civil` / `civil_from_days`.

/// The unit of the scenario's time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// 1 time unit = 1 hour.
    Hours,
    /// 1 time unit = 1 day.
    Days,
    /// 1 time unit = 7 days.
    Weeks,
}

impl TimeUnit {
    /// Parses `"hours"`, `"days"` or `"weeks"`.
    pub fn parse(s: &str) -> Option<TimeUnit> {
        match s {
            "hours" => Some(TimeUnit::Hours),
            "days" => Some(TimeUnit::Days),
            "weeks" => Some(TimeUnit::Weeks),
            _ => None,
        }
    }

    /// The accepted names.
    pub const NAMES: [&'static str; 3] = ["hours", "days", "weeks"];

    /// Length of one unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Hours => 1.0 / 24.0,
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }

    /// The unit's name.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a number of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether (year, month, day) is a real calendar date.
pub fn is_valid_date(year: i64, month: u32, day: u32) -> bool {
    (1..=12).contains(&month)
        && day >= 1
        && civil_from_days(days_from_civil(year, month, day)) == (year, month, day)
}

/// Formats a simulation time as an ISO-8601 date-time (to the minute), given the
/// day number of time 0 and the unit. Example: `2025-09-12T06:00`.
pub fn format_date(start_day: i64, unit: TimeUnit, t: f64) -> String {
    if !t.is_finite() {
        return String::new();
    }
    let total_minutes = (t * unit.days() * 1440.0).round() as i64;
    let day = start_day + total_minutes.div_euclid(1440);
    let minute = total_minutes.rem_euclid(1440);
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            days_from_civil(2025, 9, 12) - days_from_civil(2025, 9, 1),
            11
        );
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert!(!is_valid_date(2025, 2, 29));
        assert!(is_valid_date(2024, 2, 29));
    }

    #[test]
    fn dates_format_to_the_minute() {
        let start = days_from_civil(2025, 9, 1);
        assert_eq!(
            format_date(start, TimeUnit::Days, 11.25),
            "2025-09-12T06:00"
        );
        assert_eq!(
            format_date(start, TimeUnit::Hours, 36.0),
            "2025-09-02T12:00"
        );
    }
}
