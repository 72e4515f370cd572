//! Browser tests of the web page (widgets); see web/support.rs for the driver.

#[allow(unused_imports, reason = "filled in by the tests of this part")]
use super::support::{Driver, sign_in};
