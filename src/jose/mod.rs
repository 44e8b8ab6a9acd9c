//! The JOSE toolkit: decode any compact JWS/JWE ([`jwt`]), private signing keys
//! ([`keys`]), signature verification
//! ([`verify`]), JWE decryption ([`jwe`]) and NumericDates ([`numeric_date`]).

pub mod detached;
pub mod encrypt;
pub mod hash;
pub mod jwe;
pub mod jwt;
pub mod keys;
pub mod numeric_date;
pub mod public_key;
pub mod verify;
