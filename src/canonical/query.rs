//! The canonical query string: every pair encoded with the unreserved set, sorted by encoded
//! name then encoded value, `name=` for a missing or empty value.

use core::cmp::Ordering;

use crate::Error;
use crate::encoding::{self, Component, Rule, Text};
use crate::limits::{MAX_QUERY_PAIRS, MAX_REQUEST_TARGET_LEN};
use crate::sink::Sink;

/// One `name[=value]` pair of a wire query, as byte offsets (u16: the target is bounded by
/// [`MAX_REQUEST_TARGET_LEN`]).
#[derive(Clone, Copy, Default, Debug)]
struct Span {
    name_start: u16,
    name_end: u16,
    value_end: u16,
}

/// The pairs of a query string as received, parsed without copying.
#[derive(Clone, Debug)]
pub(crate) struct WireQuery<'a> {
    query: &'a str,
    spans: [Span; MAX_QUERY_PAIRS],
    len: usize,
}

impl<'a> WireQuery<'a> {
    /// Splits `query` (without the `?`) into pairs. Empty segments (`a=1&&b=2`) are skipped.
    pub(crate) fn parse(query: &'a str) -> Result<Self, Error> {
        if query.len() > MAX_REQUEST_TARGET_LEN {
            return Err(Error::TooMany {
                what: "bytes in the query string",
                limit: MAX_REQUEST_TARGET_LEN,
            });
        }
        encoding::validate_wire(query.as_bytes()).map_err(|_| Error::InvalidQuery)?;
        let mut parsed = WireQuery {
            query,
            spans: [Span::default(); MAX_QUERY_PAIRS],
            len: 0,
        };
        let mut start = 0usize;
        for segment in query.split('&') {
            let end = start + segment.len();
            if !segment.is_empty() {
                let name_end = segment.find('=').map_or(end, |i| start + i);
                let slot = parsed.spans.get_mut(parsed.len).ok_or(Error::TooMany {
                    what: "query parameters",
                    limit: MAX_QUERY_PAIRS,
                })?;
                // Offsets fit in u16: the query is at most MAX_REQUEST_TARGET_LEN bytes.
                *slot = Span {
                    name_start: u16::try_from(start).unwrap_or(u16::MAX),
                    name_end: u16::try_from(name_end).unwrap_or(u16::MAX),
                    value_end: u16::try_from(end).unwrap_or(u16::MAX),
                };
                parsed.len += 1;
            }
            start = end + 1;
        }
        Ok(parsed)
    }

    /// Number of pairs.
    #[allow(dead_code)] // For the S3 layer (developed on another branch).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The wire name and value (empty when absent) of pair `i`.
    pub(crate) fn pair(&self, i: usize) -> (&'a str, &'a str) {
        let Some(span) = self.spans.get(i) else {
            return ("", "");
        };
        let (s, n, e) = (
            usize::from(span.name_start),
            usize::from(span.name_end),
            usize::from(span.value_end),
        );
        let name = self.query.get(s..n).unwrap_or("");
        let value = self.query.get((n + 1).min(e)..e).unwrap_or("");
        (name, value)
    }

    /// All pairs, in arrival order.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        (0..self.len).map(|i| self.pair(i))
    }

    /// Index of the pairs whose decoded name equals `name` (an unreserved-only literal).
    #[allow(dead_code)] // For the S3 layer (developed on another branch).
    pub(crate) fn find_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = usize> + 's {
        let wanted = Component::new(Text::Raw(name.as_bytes()), Rule::Query);
        (0..self.len).filter(move |&i| {
            let (n, _) = self.pair(i);
            Component::new(Text::Wire(n.as_bytes()), Rule::Query)
                .cmp_canonical(&wanted, Rule::Query)
                == Ordering::Equal
        })
    }

    /// Writes the canonical query, leaving out pair `skip` (the signature of a presigned URL).
    pub(crate) fn write_canonical<S: Sink>(&self, skip: Option<usize>, sink: &mut S) {
        let comps = |i: usize| {
            let (n, v) = self.pair(i);
            (
                Component::new(Text::Wire(n.as_bytes()), Rule::Query),
                Component::new(Text::Wire(v.as_bytes()), Rule::Query),
            )
        };
        let mut order = [0u8; MAX_QUERY_PAIRS];
        let mut n = 0usize;
        for i in 0..self.len {
            if Some(i) != skip {
                if let (Some(slot), Ok(idx)) = (order.get_mut(n), u8::try_from(i)) {
                    *slot = idx;
                    n += 1;
                }
            }
        }
        let order = order.get_mut(..n).unwrap_or_default();
        // Insertion sort: stable, in place, and fastest for the handful of pairs requests carry.
        sort_by(order, |a, b| {
            let (an, av) = comps(usize::from(a));
            let (bn, bv) = comps(usize::from(b));
            an.cmp_canonical(&bn, Rule::Query)
                .then_with(|| av.cmp_canonical(&bv, Rule::Query))
        });
        for (k, &i) in order.iter().enumerate() {
            if k > 0 {
                sink.put(b"&");
            }
            let (name, value) = comps(usize::from(i));
            name.write(Rule::Query, sink);
            sink.put(b"=");
            value.write(Rule::Query, sink);
        }
    }
}

/// Stable insertion sort of small index arrays.
pub(crate) fn sort_by(items: &mut [u8], mut cmp: impl FnMut(u8, u8) -> Ordering) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 {
            let (Some(&prev), Some(&cur)) = (items.get(j - 1), items.get(j)) else {
                break;
            };
            if cmp(prev, cur) != Ordering::Greater {
                break;
            }
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Sorts raw (decoded) query pairs into canonical order; returns the index order.
pub(crate) fn sorted_raw_order(
    pairs: &[(&str, &str)],
) -> Result<([u8; MAX_QUERY_PAIRS], usize), Error> {
    if pairs.len() > MAX_QUERY_PAIRS {
        return Err(Error::TooMany {
            what: "query parameters",
            limit: MAX_QUERY_PAIRS,
        });
    }
    let mut order = [0u8; MAX_QUERY_PAIRS];
    for (i, slot) in order.iter_mut().enumerate().take(pairs.len()) {
        *slot = u8::try_from(i).unwrap_or(u8::MAX);
    }
    let comps = |i: u8| {
        let (n, v) = pairs.get(usize::from(i)).copied().unwrap_or(("", ""));
        (
            Component::new(Text::Raw(n.as_bytes()), Rule::Query),
            Component::new(Text::Raw(v.as_bytes()), Rule::Query),
        )
    };
    if let Some(slice) = order.get_mut(..pairs.len()) {
        sort_by(slice, |a, b| {
            let (an, av) = comps(a);
            let (bn, bv) = comps(b);
            an.cmp_canonical(&bn, Rule::Query)
                .then_with(|| av.cmp_canonical(&bv, Rule::Query))
        });
    }
    Ok((order, pairs.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(q: &str) -> String {
        let mut out = Vec::new();
        if let Ok(w) = WireQuery::parse(q) {
            w.write_canonical(None, &mut out);
        }
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn sorts_by_name_then_value_and_fills_empty_values() {
        assert_eq!(canon("b=2&a=1"), "a=1&b=2");
        assert_eq!(
            canon("partNumber=10&partNumber=2"),
            "partNumber=10&partNumber=2"
        );
        assert_eq!(canon("k=b&k=a"), "k=a&k=b");
        assert_eq!(canon("uploads"), "uploads=");
        assert_eq!(canon("a=&a"), "a=&a=");
        assert_eq!(canon("b=1&A=2"), "A=2&b=1");
        assert_eq!(canon("a-b=1&a=2"), "a=2&a-b=1");
    }

    #[test]
    fn plus_is_a_space_and_escapes_are_normalised() {
        assert_eq!(canon("k=a+b"), "k=a%20b");
        assert_eq!(canon("k=a%20b"), "k=a%20b");
        assert_eq!(canon("k=a%2bb"), "k=a%2Bb");
        assert_eq!(
            canon("%E1%88%B4=Value1&Param=Value2"),
            "%E1%88%B4=Value1&Param=Value2"
        );
    }

    #[test]
    fn limits_hold() {
        let at_limit = vec!["a=1"; MAX_QUERY_PAIRS].join("&");
        assert!(WireQuery::parse(&at_limit).is_ok());
        let past = vec!["a=1"; MAX_QUERY_PAIRS + 1].join("&");
        assert!(matches!(
            WireQuery::parse(&past),
            Err(Error::TooMany { .. })
        ));
        assert!(WireQuery::parse("a=%zz").is_err());
    }
}
