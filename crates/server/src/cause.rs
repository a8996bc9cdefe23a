//! Why an operating-system call failed, in the few words a one-line startup error needs.

use std::io::ErrorKind;

/// An IO error shown as a short lower-case reason (`address in use`, `not a directory`), the
/// operating system's own words for kinds without a name here.
#[derive(Debug)]
pub struct Cause(pub std::io::Error);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = match self.0.kind() {
            ErrorKind::AddrInUse => "address in use",
            ErrorKind::AddrNotAvailable => "address not available on this host",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::NotFound => "no such file or directory",
            ErrorKind::NotADirectory => "not a directory",
            ErrorKind::IsADirectory => "is a directory",
            ErrorKind::ReadOnlyFilesystem => "read-only file system",
            ErrorKind::StorageFull => "no space left on the device",
            ErrorKind::ConnectionRefused => "connection refused",
            ErrorKind::TimedOut | ErrorKind::WouldBlock => "timed out",
            _ => return write!(f, "{}", self.0),
        };
        f.write_str(short)
    }
}

impl From<std::io::Error> for Cause {
    fn from(e: std::io::Error) -> Self {
        Self(e)
    }
}

/// The environment variable that sets a configuration key: `server.bind` →
/// `TESSERA__SERVER__BIND`.
#[must_use]
pub fn env_var(key: &str) -> String {
    format!("TESSERA__{}", key.replace('.', "__").to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_as_short_reasons() {
        assert_eq!(
            Cause(std::io::Error::from(ErrorKind::AddrInUse)).to_string(),
            "address in use"
        );
        assert_eq!(
            Cause(std::io::Error::from(ErrorKind::NotADirectory)).to_string(),
            "not a directory"
        );
    }

    #[test]
    fn keys_name_their_variables() {
        assert_eq!(env_var("server.bind"), "TESSERA__SERVER__BIND");
        assert_eq!(env_var("data_dir"), "TESSERA__DATA_DIR");
        assert_eq!(env_var("tls.cert"), "TESSERA__TLS__CERT");
    }
}
