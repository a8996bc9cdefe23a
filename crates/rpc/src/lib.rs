//! Tessera's method-style adapter (`/platform_api`, Voximplant wire format).
//!
//! Not wired into the server yet: the method API is its own capability (see the issue tracker).
