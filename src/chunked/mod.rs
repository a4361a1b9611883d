//! aws-chunked streaming uploads.

mod checksum;

pub use checksum::{Checksum, ChecksumAlgorithm, ChecksumValue};
