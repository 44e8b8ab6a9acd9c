//! The session steps against the transport seam.
