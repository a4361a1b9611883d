//! Signing time and expiry. The caller passes the time: nothing in the core reads the clock.

use core::fmt;
use core::str::FromStr;
use std::time::{Duration, SystemTime};

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::Error;

/// The longest presigned URL lifetime SigV4 allows: 7 days.
pub const MAX_EXPIRY_SECS: u32 = 604_800;

/// An instant in UTC, to the second, that requests are signed or verified at.
///
/// Years 0 to 9999 only, because `X-Amz-Date` has a four-digit year.
///
/// ```
/// use presign::SigningTime;
/// let t = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
/// assert_eq!(t.amz_date().as_str(), "20130524T000000Z");
/// assert_eq!(t.unix_timestamp(), 1_369_353_600);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SigningTime(OffsetDateTime);

impl SigningTime {
    /// From seconds since the Unix epoch.
    pub fn from_unix_timestamp(secs: i64) -> Result<Self, Error> {
        OffsetDateTime::from_unix_timestamp(secs)
            .map_err(|e| Error::InvalidSigningTime(e.to_string()))
            .and_then(Self::from_offset_date_time)
    }

    /// From a `time` instant (converted to UTC, sub-second part dropped).
    pub fn from_offset_date_time(t: OffsetDateTime) -> Result<Self, Error> {
        let t = t.to_offset(UtcOffset::UTC);
        if !(0..=9999).contains(&t.year()) {
            return Err(Error::InvalidSigningTime(format!(
                "year {} is outside 0..=9999",
                t.year()
            )));
        }
        Ok(SigningTime(t.replace_nanosecond(0).unwrap_or(t)))
    }

    /// From a system time (for callers that read the clock themselves).
    pub fn from_system_time(t: SystemTime) -> Result<Self, Error> {
        Self::from_offset_date_time(OffsetDateTime::from(t))
    }

    /// The current time. The only clock read in the crate, for convenience layers; the core
    /// always takes a `SigningTime` from its caller.
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        SigningTime(now.replace_nanosecond(0).unwrap_or(now))
    }

    /// Parses the ISO 8601 basic format SigV4 uses, `yyyyMMdd'T'HHmmss'Z'`, strictly: 16
    /// characters, uppercase `T` and `Z`, real calendar values.
    pub fn parse_amz_date(s: &str) -> Result<Self, Error> {
        Self::parse_amz_bytes(s.as_bytes())
            .ok_or_else(|| Error::InvalidSigningTime(format!("{s:?} is not yyyyMMddTHHmmssZ")))
    }

    /// [`SigningTime::parse_amz_date`] of bytes (the verifier reads them off the wire).
    /// Inlined: an `Option<SigningTime>` returned through memory is read back, whole, from
    /// bytes just stored piecewise, which stalls until they land.
    #[inline]
    pub(crate) fn parse_amz_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
            return None;
        }
        let date = parse_date8(b.get(..8)?)?;
        let hour = u8::try_from(digits(b.get(9..11)?)?).ok()?;
        let minute = u8::try_from(digits(b.get(11..13)?)?).ok()?;
        let second = u8::try_from(digits(b.get(13..15)?)?).ok()?;
        let time = Time::from_hms(hour, minute, second).ok()?;
        Some(SigningTime(PrimitiveDateTime::new(date, time).assume_utc()))
    }

    /// Seconds since the Unix epoch.
    pub fn unix_timestamp(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// The instant as a `time` value (UTC).
    pub fn to_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }

    /// The UTC calendar date (the date of the credential scope).
    pub fn date(&self) -> Date {
        self.0.date()
    }

    /// `yyyyMMdd'T'HHmmss'Z'`, formatted on the stack.
    pub fn amz_date(&self) -> AmzDate {
        let mut date8 = [0u8; 8];
        write_date8(self.0.date(), &mut date8);
        self.amz_date_on(&date8)
    }

    /// [`SigningTime::amz_date`] with the `yyyyMMdd` of this instant's date formatted already
    /// (the signer keeps it per day): only the time of day is formatted.
    pub(crate) fn amz_date_on(&self, date8: &[u8; 8]) -> AmzDate {
        let mut out = [0u8; 16];
        if let Some(dst) = out.get_mut(..8) {
            dst.copy_from_slice(date8);
        }
        out[8] = b'T';
        let (hour, minute, second) = self.0.to_hms();
        two(hour, &mut out[9..11]);
        two(minute, &mut out[11..13]);
        two(second, &mut out[13..15]);
        out[15] = b'Z';
        AmzDate(out)
    }

    /// This instant plus `secs` seconds (saturating at the end of year 9999).
    pub fn add_seconds(&self, secs: i64) -> SigningTime {
        match self.0.checked_add(time::Duration::seconds(secs)) {
            Some(t) if (0..=9999).contains(&t.year()) => SigningTime(t),
            Some(t) => SigningTime(t.clamp(FIRST_INSTANT, LAST_INSTANT)),
            None if secs < 0 => SigningTime(FIRST_INSTANT),
            None => SigningTime(LAST_INSTANT),
        }
    }
}

/// The first and last instants a `SigningTime` can hold (four-digit years).
const FIRST_INSTANT: OffsetDateTime = match Date::from_calendar_date(0, Month::January, 1) {
    Ok(date) => PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc(),
    Err(_) => OffsetDateTime::UNIX_EPOCH,
};
const LAST_INSTANT: OffsetDateTime = match (
    Date::from_calendar_date(9999, Month::December, 31),
    Time::from_hms(23, 59, 59),
) {
    (Ok(date), Ok(time)) => PrimitiveDateTime::new(date, time).assume_utc(),
    _ => OffsetDateTime::UNIX_EPOCH,
};

impl fmt::Debug for SigningTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.amz_date().as_str())
    }
}

impl fmt::Display for SigningTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.amz_date().as_str())
    }
}

impl TryFrom<SystemTime> for SigningTime {
    type Error = Error;
    fn try_from(t: SystemTime) -> Result<Self, Error> {
        Self::from_system_time(t)
    }
}

impl TryFrom<OffsetDateTime> for SigningTime {
    type Error = Error;
    fn try_from(t: OffsetDateTime) -> Result<Self, Error> {
        Self::from_offset_date_time(t)
    }
}

impl FromStr for SigningTime {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse_amz_date(s)
    }
}

/// A formatted `X-Amz-Date` value (`20130524T000000Z`), on the stack.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AmzDate([u8; 16]);

impl AmzDate {
    /// The text that [`SigningTime::parse_amz_date`] accepted: strictly `yyyyMMdd'T'HHmmss'Z'`,
    /// so already the formatted date.
    pub(crate) fn from_parsed(text: [u8; 16]) -> Self {
        AmzDate(text)
    }

    /// The 16 characters.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The 16 ASCII bytes.
    pub(crate) fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The `yyyyMMdd` date part.
    pub fn date_part(&self) -> &str {
        self.as_str().get(..8).unwrap_or("")
    }
}

impl fmt::Debug for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decimal number `b` spells: digits only, at least one, fitting a `u32`.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &d| {
        acc.checked_mul(10)?
            .checked_add(char::from(d).to_digit(10)?)
    })
}

/// The ASCII character of the last decimal digit of `n`.
#[inline]
#[allow(
    clippy::arithmetic_side_effects,
    reason = "n % 10 is at most 9, so b'0' + it is at most b'9'"
)]
pub(crate) fn ascii_digit(n: u32) -> u8 {
    // n % 10 < 10: the cast cannot truncate.
    b'0' + (n % 10) as u8
}

/// Parses `yyyyMMdd` into a real calendar date.
pub(crate) fn parse_date8(b: &[u8]) -> Option<Date> {
    if b.len() != 8 {
        return None;
    }
    let year = i32::try_from(digits(b.get(..4)?)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(b.get(4..6)?)?).ok()?).ok()?;
    let day = u8::try_from(digits(b.get(6..8)?)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

fn two(v: u8, out: &mut [u8]) {
    if let [a, b] = out {
        *a = ascii_digit(u32::from(v / 10));
        *b = ascii_digit(u32::from(v));
    }
}

/// Writes `yyyyMMdd` into the first 8 bytes of `out`.
pub(crate) fn write_date8(date: Date, out: &mut [u8]) {
    // One calendar conversion for year, month and day.
    let (year, month, day) = date.to_calendar_date();
    let year = u32::try_from(year).unwrap_or(0).min(9999);
    if let Some([y0, y1, y2, y3]) = out
        .get_mut(..4)
        .and_then(|s| <&mut [u8; 4]>::try_from(s).ok())
    {
        *y0 = ascii_digit(year / 1000);
        *y1 = ascii_digit(year / 100);
        *y2 = ascii_digit(year / 10);
        *y3 = ascii_digit(year);
    }
    if let Some(m) = out.get_mut(4..6) {
        two(u8::from(month), m);
    }
    if let Some(d) = out.get_mut(6..8) {
        two(day, d);
    }
}

/// How long a presigned request stays valid: 1 to 604800 seconds (7 days).
///
/// ```
/// use presign::Expiry;
/// assert_eq!("15m".parse::<Expiry>().unwrap().as_secs(), 900);
/// assert_eq!("7d".parse::<Expiry>().unwrap().as_secs(), 604_800);
/// assert!("8d".parse::<Expiry>().is_err());
/// assert!(Expiry::from_secs(0).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry(u32);

impl Expiry {
    /// The longest lifetime, 7 days.
    pub const MAX: Expiry = Expiry(MAX_EXPIRY_SECS);

    /// From whole seconds, 1..=604800.
    #[inline]
    pub fn from_secs(secs: u64) -> Result<Self, Error> {
        match u32::try_from(secs) {
            Ok(s @ 1..=MAX_EXPIRY_SECS) => Ok(Expiry(s)),
            _ => Err(Self::out_of_range(secs)),
        }
    }

    /// Why `secs` is not an expiry (kept out of line: [`Expiry::from_secs`] is inlined).
    #[cold]
    fn out_of_range(secs: u64) -> Error {
        if secs == 0 {
            Error::InvalidExpiry(
                "0 seconds: a presigned URL must be valid for at least 1 second".into(),
            )
        } else {
            Error::InvalidExpiry(format!(
                "{secs} seconds is more than 7 days (604800 seconds), the most SigV4 allows"
            ))
        }
    }

    /// The lifetime in seconds.
    pub fn as_secs(&self) -> u32 {
        self.0
    }

    /// The lifetime as a `Duration`.
    pub fn as_duration(&self) -> Duration {
        Duration::from_secs(u64::from(self.0))
    }
}

impl TryFrom<Duration> for Expiry {
    type Error = Error;
    /// Whole seconds only: a fractional duration is refused rather than rounded.
    fn try_from(d: Duration) -> Result<Self, Error> {
        if d.subsec_nanos() != 0 {
            return Err(Error::InvalidExpiry(format!(
                "{d:?} is not a whole number of seconds"
            )));
        }
        Expiry::from_secs(d.as_secs())
    }
}

impl FromStr for Expiry {
    type Err = Error;
    /// Reads `900` (seconds), or a sequence of numbers with units `s`, `m`, `h`, `d`:
    /// `90s`, `15m`, `1h`, `1h30m`, `7d`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::InvalidExpiry(format!(
                "{s:?} is not a duration: use seconds (900) or units s, m, h, d (15m, 1h, 7d)"
            ))
        };
        let s = s.trim();
        if s.is_empty() {
            return Err(bad());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Expiry::from_secs(s.parse::<u64>().map_err(|_| bad())?);
        }
        let mut total: u64 = 0;
        let mut number: Option<u64> = None;
        for b in s.bytes() {
            match b {
                b'0'..=b'9' => {
                    let n = number.unwrap_or(0);
                    number = Some(
                        n.checked_mul(10)
                            .and_then(|n| n.checked_add(u64::from(char::from(b).to_digit(10)?)))
                            .ok_or_else(bad)?,
                    );
                }
                b's' | b'm' | b'h' | b'd' => {
                    let unit = match b {
                        b's' => 1,
                        b'm' => 60,
                        b'h' => 3600,
                        _ => 86_400,
                    };
                    let n = number.take().ok_or_else(bad)?;
                    total = n
                        .checked_mul(unit)
                        .and_then(|v| total.checked_add(v))
                        .ok_or_else(bad)?;
                }
                _ => return Err(bad()),
            }
        }
        if number.is_some() {
            return Err(bad());
        }
        Expiry::from_secs(total)
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips_and_is_strict() {
        for s in [
            "20130524T000000Z",
            "20240229T235959Z",
            "00000101T000000Z",
            "99991231T235959Z",
        ] {
            assert_eq!(
                SigningTime::parse_amz_date(s)
                    .map(|t| t.amz_date())
                    .ok()
                    .map(|d| d.as_str().to_owned()),
                Some(s.to_owned())
            );
        }
        for s in [
            "2024-01-01T00:00:00Z",
            "20240101T000000+0000",
            "20240101t000000z",
            "20240101T240000Z",
            "20240101T235960Z",
            "20230229T000000Z",
            "2024010T000000Z",
            "20240101T0000000Z",
            " 20240101T000000Z",
            "+2024101T000000Z",
        ] {
            assert!(SigningTime::parse_amz_date(s).is_err(), "{s}");
        }
    }

    #[test]
    fn expiry_bounds() {
        assert!(Expiry::from_secs(1).is_ok());
        assert!(Expiry::from_secs(604_800).is_ok());
        assert!(Expiry::from_secs(604_801).is_err());
        assert!(Expiry::from_secs(0).is_err());
        assert!(Expiry::from_secs(u64::MAX).is_err());
        assert!(Expiry::try_from(Duration::from_millis(1500)).is_err());
        assert_eq!(
            Expiry::try_from(Duration::from_secs(60)).map(|e| e.as_secs()),
            Ok(60)
        );
    }

    #[test]
    fn expiry_strings() {
        let secs = |s: &str| s.parse::<Expiry>().map(|e| e.as_secs());
        assert_eq!(secs("900"), Ok(900));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("15m"), Ok(900));
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("7d"), Ok(604_800));
        for bad in [
            "",
            "h",
            "1x",
            "1h2",
            "-5",
            "8d",
            "0",
            "0m",
            "99999999999999999999999d",
            "1.5h",
        ] {
            assert!(secs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn amz_date_on_reuses_the_formatted_day() {
        for text in ["20130524T000000Z", "19991231T235959Z", "20240229T120501Z"] {
            let t = SigningTime::parse_amz_date(text).unwrap_or_else(|_| SigningTime::now());
            let mut date8 = [0u8; 8];
            write_date8(t.date(), &mut date8);
            assert_eq!(t.amz_date_on(&date8).as_str(), text);
        }
    }

    #[test]
    fn add_seconds_saturates() {
        let t =
            SigningTime::parse_amz_date("99991231T235950Z").unwrap_or_else(|_| SigningTime::now());
        assert_eq!(t.add_seconds(100).amz_date().as_str(), "99991231T235959Z");
    }
}
