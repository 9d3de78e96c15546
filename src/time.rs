//! Relative times ("5 minutes ago") and full dates, through the browser's `Date` so no date
//! library lands in the bundle.

use wire::Timestamp;

const MINUTE: f64 = 60.0;
const HOUR: f64 = 60.0 * MINUTE;
const DAY: f64 = 24.0 * HOUR;
const MONTH: f64 = 30.0 * DAY;
const YEAR: f64 = 365.0 * DAY;

/// How long ago `then_ms` was, seen at `now_ms` (both milliseconds since the epoch).
/// Times slightly in the future (clock skew) read as "just now".
pub fn relative(now_ms: f64, then_ms: f64) -> String {
    let secs = (now_ms - then_ms) / 1000.0;
    let ago = |n: f64, one: &str, unit: &str| {
        let n = n.round() as i64;
        if n <= 1 {
            format!("{one} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    if secs < 45.0 {
        "just now".into()
    } else if secs < 45.0 * MINUTE {
        ago(secs / MINUTE, "a minute", "minute")
    } else if secs < 22.0 * HOUR {
        ago(secs / HOUR, "an hour", "hour")
    } else if secs < 26.0 * DAY {
        ago(secs / DAY, "a day", "day")
    } else if secs < 320.0 * DAY {
        ago(secs / MONTH, "a month", "month")
    } else {
        ago(secs / YEAR, "a year", "year")
    }
}

/// Milliseconds since the epoch, as `Date` wants them.
pub fn millis(t: Timestamp) -> f64 {
    t.as_micros() as f64 / 1000.0
}

/// The browser's clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The full date and time in the reader's locale and time zone, e.g. for a `title`.
pub fn full_date(t: Timestamp) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis(t)));
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "full"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    date.to_locale_string("default", &options).into()
}

/// The date alone ("29 November 2026"), for "member since".
pub fn long_date(t: Timestamp) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis(t)));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"long".into());
    date.to_locale_date_string("default", &options).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_800_000_000_000.0;

    fn ago(secs: f64) -> String {
        relative(NOW, NOW - secs * 1000.0)
    }

    #[test]
    fn recent_and_future_times_are_just_now() {
        assert_eq!(ago(0.0), "just now");
        assert_eq!(ago(44.0), "just now");
        assert_eq!(ago(-30.0), "just now");
    }

    #[test]
    fn units_grow_with_the_distance() {
        assert_eq!(ago(50.0), "a minute ago");
        assert_eq!(ago(5.0 * 60.0), "5 minutes ago");
        assert_eq!(ago(50.0 * 60.0), "an hour ago");
        assert_eq!(ago(3.0 * 3600.0), "3 hours ago");
        assert_eq!(ago(23.0 * 3600.0), "a day ago");
        assert_eq!(ago(5.0 * 86400.0), "5 days ago");
        assert_eq!(ago(30.0 * 86400.0), "a month ago");
        assert_eq!(ago(95.0 * 86400.0), "3 months ago");
        assert_eq!(ago(400.0 * 86400.0), "a year ago");
        assert_eq!(ago(3.0 * 365.0 * 86400.0), "3 years ago");
    }

    #[test]
    fn millis_come_from_micros() {
        assert_eq!(millis(Timestamp::from_micros(1_500_000)), 1500.0);
    }
}
