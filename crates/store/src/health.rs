//! Readiness: can a connection be had and a query run?

use std::time::Duration;

use diesel::r2d2::R2D2Connection;
use tessera_domain::ports::{Health, RepoError};

use crate::Store;
use crate::error::StoreError;

impl Health for Store {
    fn ping(&self) -> Result<(), RepoError> {
        let mut conn = self.db.conn_within(Duration::from_secs(1))?;
        conn.ping()
            .map_err(|e| RepoError::Unavailable(StoreError::from(e).to_string()))
    }
}
