//! The C ABI. The only module with `unsafe`: it converts and checks arguments, catches
//! panics, and holds no protocol logic.

#![allow(non_camel_case_types)]

pub mod result;
pub mod version;
