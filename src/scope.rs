//! The credential scope: `yyyyMMdd/region/service/aws4_request`.

use core::fmt;

use time::Date;

use crate::Error;
use crate::time::write_date8;

/// The terminator of every SigV4 credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";

/// The date, region and service a signing key is derived for.
///
/// ```
/// use presign::{Scope, SigningTime};
/// let t = SigningTime::parse_amz_date("20130524T000000Z").unwrap();
/// let scope = Scope::new(t.date(), "us-east-1", "s3").unwrap();
/// assert_eq!(scope.to_string(), "20130524/us-east-1/s3/aws4_request");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    date: Date,
    region: String,
    service: String,
}

impl Scope {
    /// A scope; region and service must be non-empty `a-z`, `0-9`, `-`.
    pub fn new(date: Date, region: &str, service: &str) -> Result<Self, Error> {
        validate_region(region)?;
        validate_service(service)?;
        Ok(Scope {
            date,
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }

    /// The UTC date.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service.
    pub fn service(&self) -> &str {
        &self.service
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = [0u8; 8];
        write_date8(self.date, &mut d);
        write!(
            f,
            "{}/{}/{}/{}",
            core::str::from_utf8(&d).unwrap_or(""),
            self.region,
            self.service,
            SCOPE_TERMINATOR
        )
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks a region name.
pub(crate) fn validate_region(region: &str) -> Result<(), Error> {
    if is_name(region) {
        Ok(())
    } else {
        Err(Error::InvalidRegion(region.to_owned()))
    }
}

/// Checks a service name.
pub(crate) fn validate_service(service: &str) -> Result<(), Error> {
    if is_name(service) {
        Ok(())
    } else {
        Err(Error::InvalidService(service.to_owned()))
    }
}
