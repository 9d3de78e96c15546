//! UTC timestamps with microsecond precision, written as ISO 8601 with a `Z` suffix.
//!
//! A hand-written civil-calendar conversion keeps a date library out of the wasm bundle;
//! the server stores the same integer (microseconds since the Unix epoch) in its database.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// A point in time: microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down.
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SECOND)
    }
}

/// Why a timestamp did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTimestampError;

impl fmt::Display for ParseTimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an ISO 8601 UTC timestamp like 2026-11-29T14:12:51.349565Z")
    }
}

impl std::error::Error for ParseTimestampError {}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.as_secs();
        let micros = self.0.rem_euclid(MICROS_PER_SECOND);
        let (year, month, day) = civil_from_days(secs.div_euclid(SECONDS_PER_DAY));
        let second_of_day = secs.rem_euclid(SECONDS_PER_DAY);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            second_of_day / 3600,
            second_of_day % 3600 / 60,
            second_of_day % 60
        )
    }
}

impl FromStr for Timestamp {
    type Err = ParseTimestampError;

    /// Accepts `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 9 digits (kept to the
    /// microsecond), and `Z`, `+00:00` or nothing (all meaning UTC).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s
            .strip_suffix('Z')
            .or_else(|| s.strip_suffix("+00:00"))
            .unwrap_or(s);
        let (date_time, fraction) = match s.split_once('.') {
            Some((dt, fraction)) => (dt, Some(fraction)),
            None => (s, None),
        };
        let b = date_time.as_bytes();
        if b.len() != 19
            || b[4] != b'-'
            || b[7] != b'-'
            || (b[10] != b'T' && b[10] != b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(ParseTimestampError);
        }
        let year = digits(&date_time[0..4])?;
        let month = digits(&date_time[5..7])?;
        let day = digits(&date_time[8..10])?;
        let hour = digits(&date_time[11..13])?;
        let minute = digits(&date_time[14..16])?;
        let second = digits(&date_time[17..19])?;
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return Err(ParseTimestampError);
        }
        let micros = match fraction {
            None => 0,
            // Digits first: only then is every byte a character boundary to cut at.
            Some(f) if (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
                let kept = &f[..f.len().min(6)];
                digits(kept)? * 10_i64.pow(6 - kept.len() as u32)
            }
            Some(_) => return Err(ParseTimestampError),
        };
        let days = days_from_civil(year, month, day);
        let secs = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
        Ok(Self(secs * MICROS_PER_SECOND + micros))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-11-29T14:12:51.349565Z"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

fn digits(s: &str) -> Result<i64, ParseTimestampError> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().map_err(|_| ParseTimestampError)
    } else {
        Err(ParseTimestampError)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_microseconds_and_z() {
        let t: Timestamp = "2026-11-29T14:12:51.349565Z".parse().unwrap();
        assert_eq!(t.to_string(), "2026-11-29T14:12:51.349565Z");
        assert_eq!(
            Timestamp::from_micros(0).to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn known_instant_matches_its_epoch_value() {
        // 2000-03-01T00:00:00Z, just after a leap day in a year divisible by 400.
        let t: Timestamp = "2000-03-01T00:00:00Z".parse().unwrap();
        assert_eq!(t.as_secs(), 951_868_800);
    }

    #[test]
    fn round_trips_across_four_centuries() {
        let mut micros = -2_208_988_800_000_000; // 1900-01-01
        while micros < 10_413_792_000_000_000 {
            // 2300-01-01
            let t = Timestamp::from_micros(micros);
            assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t), "{t}");
            micros += 86_399_999_977; // a day less a few micros: walks every time of day
        }
    }

    #[test]
    fn accepts_other_utc_spellings_and_fraction_lengths() {
        let expected: Timestamp = "2026-11-29T14:12:51.300000Z".parse().unwrap();
        for s in [
            "2026-11-29T14:12:51.3Z",
            "2026-11-29T14:12:51.3+00:00",
            "2026-11-29T14:12:51.300",
            "2026-11-29 14:12:51.300000999Z",
        ] {
            assert_eq!(s.parse::<Timestamp>(), Ok(expected), "{s}");
        }
    }

    #[test]
    fn rejects_malformed_input() {
        for s in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-29T24:00:00Z",
            "2026-11-29T14:12:51.Z",
            "2026-11-29T14:12:51.1234567890Z",
            "2026-11-29T14:12:51+02:00",
            "+026-11-29T14:12:51Z",
            "2026-11-29T14:12:5xZ",
        ] {
            assert_eq!(s.parse::<Timestamp>(), Err(ParseTimestampError), "{s:?}");
        }
    }

    #[test]
    fn serde_uses_the_string_form() {
        let t = Timestamp::from_micros(1_764_425_571_349_565);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2025-11-29T14:12:51.349565Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }
}
