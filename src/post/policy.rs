//! The POST policy document: its model, strict parsing and JSON writing.
//!
//! Parsing goes through serde_json with hand-written visitors, so that the document is read
//! exactly as the model allows and nothing else: a member given twice at any level, a member
//! the policy language does not have, a value of the wrong JSON type, an operator that does not
//! exist or a condition with the wrong number of operands is an error
//! ([`VerifyError::InvalidPolicyDocument`]), never a value silently kept or dropped.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::SigningTime;
use crate::limits::MAX_POST_POLICY_CONDITIONS;
use crate::verify::VerifyError;

/// One condition of a POST policy.
///
/// Field names are kept as the policy spells them, without the `$` of the array form, and are
/// matched against form fields ignoring ASCII case; values are compared exactly.
///
/// ```
/// use presign::post::Condition;
/// let c = Condition::starts_with("Content-Type", "image/");
/// assert_eq!(c.to_string(), r#"["starts-with","$Content-Type","image/"]"#);
/// assert_eq!(c.field(), Some("Content-Type"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The field's value is exactly `value`: `{"acl": "private"}` or
    /// `["eq", "$acl", "private"]`.
    Eq {
        /// The form field (or `bucket`).
        field: String,
        /// The value it must have.
        value: String,
    },
    /// The field's value starts with `prefix` (`""`: any value, but the field must be there):
    /// `["starts-with", "$key", "uploads/"]`. For `Content-Type` a value with commas is a
    /// list, and every item must start with `prefix`.
    StartsWith {
        /// The form field.
        field: String,
        /// The prefix its value must start with.
        prefix: String,
    },
    /// The uploaded file has `min..=max` bytes: `["content-length-range", 1, 10485760]`.
    ContentLengthRange {
        /// Fewest bytes.
        min: u64,
        /// Most bytes.
        max: u64,
    },
}

impl Condition {
    /// `{"field": "value"}`: the field must have exactly this value.
    pub fn eq(field: impl Into<String>, value: impl Into<String>) -> Self {
        Condition::Eq {
            field: field.into(),
            value: value.into(),
        }
    }

    /// `["starts-with", "$field", "prefix"]`.
    pub fn starts_with(field: impl Into<String>, prefix: impl Into<String>) -> Self {
        Condition::StartsWith {
            field: field.into(),
            prefix: prefix.into(),
        }
    }

    /// `["content-length-range", min, max]` (inclusive bounds).
    pub fn content_length_range(min: u64, max: u64) -> Self {
        Condition::ContentLengthRange { min, max }
    }

    /// The form field the condition is about (`None` for `content-length-range`).
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => Some(field),
            Condition::ContentLengthRange { .. } => None,
        }
    }

    /// Whether a field's value meets an `eq` or `starts-with` condition; `None` is a field the
    /// form does not have, which meets no condition (not even `starts-with ""`, as S3).
    /// `content-length-range` is about the file and is not checked here.
    pub(crate) fn matches(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (Condition::ContentLengthRange { .. }, _) => true,
            (_, None) => false,
            (Condition::Eq { value: want, .. }, Some(v)) => v == want,
            (Condition::StartsWith { field, prefix }, Some(v)) => {
                if field.eq_ignore_ascii_case("content-type") {
                    // AWS: "Content-Types values for a starts-with condition that include
                    // commas are interpreted as lists. Each value in the list must meet the
                    // condition", so `image/png,text/html` fails `starts-with image/`.
                    v.split(',')
                        .all(|item| item.trim_matches([' ', '\t']).starts_with(prefix.as_str()))
                } else {
                    v.starts_with(prefix.as_str())
                }
            }
        }
    }

    /// The array form S3 prints in `Policy Condition failed: […]`.
    fn write_array<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(3))?;
        match self {
            Condition::Eq { field, value } => {
                seq.serialize_element("eq")?;
                seq.serialize_element(&format!("${field}"))?;
                seq.serialize_element(value)?;
            }
            Condition::StartsWith { field, prefix } => {
                seq.serialize_element("starts-with")?;
                seq.serialize_element(&format!("${field}"))?;
                seq.serialize_element(prefix)?;
            }
            Condition::ContentLengthRange { min, max } => {
                seq.serialize_element("content-length-range")?;
                seq.serialize_element(min)?;
                seq.serialize_element(max)?;
            }
        }
        seq.end()
    }
}

/// In a policy, exact matches are written as one-member objects (as the AWS documentation and
/// both SDKs write them); the other conditions as arrays.
impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Condition::Eq { field, value } => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(field, value)?;
                map.end()
            }
            _ => self.write_array(serializer),
        }
    }
}

/// The array form, as JSON (`["eq","$key","a.txt"]`).
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Array<'a>(&'a Condition);
        impl Serialize for Array<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.write_array(serializer)
            }
        }
        let text = serde_json::to_string(&Array(self)).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// A POST policy: when it expires and the conditions a form must meet.
///
/// ```
/// use presign::post::{Condition, PolicyDocument};
/// use presign::SigningTime;
///
/// let expiration = SigningTime::parse_amz_date("20260101T120000Z")?;
/// let policy = PolicyDocument::new(expiration, vec![
///     Condition::eq("bucket", "examplebucket"),
///     Condition::starts_with("key", "uploads/"),
///     Condition::content_length_range(0, 1 << 20),
/// ]);
/// assert_eq!(policy.to_json(), concat!(
///     r#"{"expiration":"2026-01-01T12:00:00.000Z","conditions":[{"bucket":"examplebucket"},"#,
///     r#"["starts-with","$key","uploads/"],["content-length-range",0,1048576]]}"#));
///
/// // Reading is strict: a member given twice is an error, not "the last one wins".
/// let twice = br#"{"expiration":"2026-01-01T12:00:00Z","conditions":[],"conditions":[]}"#;
/// assert_eq!(PolicyDocument::from_json(twice).unwrap_err().code(), "InvalidPolicyDocument");
/// # Ok::<(), presign::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    expiration: OffsetDateTime,
    conditions: Vec<Condition>,
}

#[derive(Serialize)]
struct Wire<'a> {
    expiration: String,
    conditions: &'a [Condition],
}

impl PolicyDocument {
    /// A policy expiring at `expiration` with these conditions, in this order.
    pub fn new(expiration: SigningTime, conditions: Vec<Condition>) -> Self {
        PolicyDocument {
            expiration: expiration.to_offset_date_time(),
            conditions,
        }
    }

    /// Reads a policy from its JSON text, strictly (see the module documentation).
    pub fn from_json(json: &[u8]) -> Result<Self, VerifyError> {
        serde_json::from_slice(json).map_err(|e| {
            let message = e.to_string();
            VerifyError::InvalidPolicyDocument(if e.is_syntax() || e.is_eof() {
                format!("Invalid JSON. ({message})")
            } else {
                message
            })
        })
    }

    /// Reads a policy from the base64 text of a form's `policy` field (standard alphabet,
    /// padded, nothing else: no whitespace, no URL-safe characters).
    pub fn from_base64(text: &str) -> Result<Self, VerifyError> {
        let json = STANDARD
            .decode(text)
            .map_err(|_| VerifyError::InvalidPolicyDocument("invalid Base64 encoding.".into()))?;
        Self::from_json(&json)
    }

    /// When the policy expires: forms are refused from this instant on.
    pub fn expiration(&self) -> OffsetDateTime {
        self.expiration
    }

    /// The conditions, in the policy's order.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The policy as compact JSON: `expiration` first, as `2026-01-01T12:00:00.000Z`, then
    /// `conditions`.
    pub fn to_json(&self) -> String {
        let wire = Wire {
            expiration: format_expiration(self.expiration),
            conditions: &self.conditions,
        };
        // Serializing strings, integers, maps and sequences into a String cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// The base64 of [`to_json`](Self::to_json): the `policy` field and the string to sign.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.to_json())
    }
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ`, the form of the AWS documentation.
pub(crate) fn format_expiration(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// ISO 8601 in UTC, as S3 reads it: `yyyy-MM-ddTHH:mm:ssZ` with an optional fraction of 1 to
/// 9 digits (`.000Z` in the documentation, none from the SDKs). Offsets, a space for `T`,
/// lowercase letters and impossible dates are refused.
pub(crate) fn parse_expiration(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    let num = |range: core::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u32, |acc, d| {
            acc.checked_mul(10)?
                .checked_add(char::from(*d).to_digit(10)?)
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    if b.last() != Some(&b'Z') {
        return None;
    }
    let nanos = match b.len() {
        20 => 0,
        22..=30 if at(19, b'.') => {
            let digits = u32::try_from(b.len().checked_sub(21)?).ok()?;
            let fraction = num(20..b.len().checked_sub(1)?)?;
            fraction.checked_mul(10u32.checked_pow(9u32.checked_sub(digits)?)?)?
        }
        _ => return None,
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_nano(
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(14..16)?).ok()?,
        u8::try_from(num(17..19)?).ok()?,
        nanos,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = PolicyDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a policy: an object with \"expiration\" and \"conditions\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PolicyDocument, A::Error> {
        let mut expiration = None;
        let mut conditions = None;
        // Each key is seen here, so a repeated one is caught instead of overwriting the first
        // (MinIO #11843: a second "conditions" injected through an SDK won).
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "expiration" => {
                    if expiration.is_some() {
                        return Err(de::Error::custom("\"expiration\" is given twice"));
                    }
                    let text: String = map.next_value()?;
                    expiration = Some(parse_expiration(&text).ok_or_else(|| {
                        de::Error::custom(format_args!("Invalid 'expiration' value: '{text}'"))
                    })?);
                }
                "conditions" => {
                    if conditions.is_some() {
                        return Err(de::Error::custom("\"conditions\" is given twice"));
                    }
                    conditions = Some(map.next_value::<Conditions>()?.0);
                }
                // The names are case-sensitive: "Expiration" is unknown too.
                other => return Err(de::Error::custom(format_args!("Unexpected: '{other}'"))),
            }
        }
        Ok(PolicyDocument {
            expiration: expiration
                .ok_or_else(|| de::Error::custom("Policy missing expiration."))?,
            conditions: conditions
                .ok_or_else(|| de::Error::custom("Policy missing conditions."))?,
        })
    }
}

/// The `conditions` array, at most [`MAX_POST_POLICY_CONDITIONS`] long.
struct Conditions(Vec<Condition>);

impl<'de> Deserialize<'de> for Conditions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Conditions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of conditions")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Conditions, A::Error> {
                let mut out = Vec::new();
                while let Some(c) = seq.next_element::<Condition>()? {
                    if out.len() == MAX_POST_POLICY_CONDITIONS {
                        return Err(de::Error::custom(format_args!(
                            "more than {MAX_POST_POLICY_CONDITIONS} conditions"
                        )));
                    }
                    out.push(c);
                }
                Ok(Conditions(out))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ConditionVisitor)
    }
}

struct ConditionVisitor;

fn wrong_arity<E: de::Error>(op: &str) -> E {
    E::custom(format_args!("Invalid {op}: wrong number of arguments."))
}

impl<'de> Visitor<'de> for ConditionVisitor {
    type Value = Condition;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a condition: an object with one member, or a list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Condition, A::Error> {
        let one =
            "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.";
        let field = map
            .next_key::<String>()?
            .ok_or_else(|| de::Error::custom(one))?;
        let value: String = map.next_value()?;
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(one));
        }
        Ok(Condition::Eq { field, value })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Condition, A::Error> {
        let op: String = seq
            .next_element()?
            .ok_or_else(|| de::Error::custom("Invalid Condition: missing operation identifier."))?;
        // Operator names are matched ignoring case, as field names are (s3-tests sends
        // "StArTs-WiTh"); the set of operators is closed either way.
        let condition = match op.to_ascii_lowercase().as_str() {
            kind @ ("eq" | "starts-with") => {
                let name: String = seq.next_element()?.ok_or_else(|| wrong_arity(&op))?;
                let operand: String = seq.next_element()?.ok_or_else(|| wrong_arity(&op))?;
                let field = match name.strip_prefix('$') {
                    Some(field) if !field.is_empty() => field.to_owned(),
                    _ => {
                        return Err(de::Error::custom(format_args!(
                            "Invalid {op}: the field {name:?} must be written \"$name\"."
                        )));
                    }
                };
                if kind == "eq" {
                    Condition::Eq {
                        field,
                        value: operand,
                    }
                } else {
                    Condition::StartsWith {
                        field,
                        prefix: operand,
                    }
                }
            }
            "content-length-range" => {
                let min: Bound = seq.next_element()?.ok_or_else(|| wrong_arity(&op))?;
                let max: Bound = seq.next_element()?.ok_or_else(|| wrong_arity(&op))?;
                if min.0 > max.0 {
                    return Err(de::Error::custom(
                        "Invalid content-length-range: the minimum is greater than the maximum.",
                    ));
                }
                Condition::ContentLengthRange {
                    min: min.0,
                    max: max.0,
                }
            }
            _ => {
                return Err(de::Error::custom(format_args!(
                    "Invalid Condition: unknown operation '{op}'."
                )));
            }
        };
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(wrong_arity(&op));
        }
        Ok(condition)
    }
}

/// A `content-length-range` bound: a non-negative integer, or a string of decimal digits
/// (S3 accepts `["content-length-range", "5", "10"]`). Fractions, negative numbers, numbers
/// past `u64` and other types are refused.
struct Bound(u64);

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bound;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a content-length-range bound: a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bound, E> {
                Ok(Bound(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bound, E> {
                if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::invalid_value(de::Unexpected::Str(v), &self));
                }
                v.parse()
                    .map(Bound)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PolicyDocument, String> {
        PolicyDocument::from_json(json.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn expiration_forms() {
        let t = parse_expiration("2015-12-30T12:00:00.000Z").map(format_expiration);
        assert_eq!(t.as_deref(), Some("2015-12-30T12:00:00.000Z"));
        assert!(parse_expiration("2013-05-24T01:00:00Z").is_some());
        assert!(parse_expiration("2013-05-24T01:00:00.5Z").is_some());
        assert!(parse_expiration("2013-05-24T01:00:00.123456789Z").is_some());
        for bad in [
            "2013-05-24T01:00:00",
            "2013-05-24T01:00:00+00:00",
            "2013-05-24 01:00:00Z",
            "2013-05-24t01:00:00z",
            "2099-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2013-05-24T24:00:00Z",
            "2013-05-24T01:00:00.Z",
            "2013-05-24T01:00:00.1234567890Z",
            "20130524T010000Z",
            "+2013-05-24T01:00:00Z",
            "",
        ] {
            assert!(parse_expiration(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn grammar() {
        let ok = parse(
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{"acl":"x"},["EQ","$a","b"],["Starts-With","$k",""],["content-length-range","1",2]]}"#,
        );
        let doc = ok.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            doc.conditions(),
            [
                Condition::eq("acl", "x"),
                Condition::eq("a", "b"),
                Condition::starts_with("k", ""),
                Condition::content_length_range(1, 2),
            ]
        );
        for bad in [
            r#"{"expiration":"2026-01-01T00:00:00Z"}"#,
            r#"{"conditions":[]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[],"x":1}"#,
            r#"{"Expiration":"2026-01-01T00:00:00Z","conditions":[]}"#,
            r#"{"expiration":1,"conditions":[]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":{}}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{}]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{"a":"b","c":"d"}]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{"a":"b","a":"b"}]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{"a":5}]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{"a":null}]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[[]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["eq","$a"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["eq","$a","b","c"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["eq","a","b"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["eq","$","b"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["eq","$a",1]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["ends-with","$a","b"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range",1]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range",-1,0]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range",0,512.0]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range",0,"x"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range",10,1]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":["eq"]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[],}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[]} x"#,
            r#"[]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn content_type_lists() {
        let c = Condition::starts_with("content-TYPE", "image/");
        assert!(c.matches(Some("image/jpg,image/png, image/gif")));
        assert!(!c.matches(Some("image/jpg,text/plain")));
        assert!(!c.matches(None));
        // Only Content-Type is a list.
        let k = Condition::starts_with("key", "a,");
        assert!(k.matches(Some("a,b")));
    }
}
