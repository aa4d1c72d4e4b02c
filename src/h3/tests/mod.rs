//! Connection tests, one file per section of docs/BEHAVIOUR.md. Each rule runs byte by byte
//! and in large chunks where delivery can matter.

mod aborts;
mod blocked;
mod control;
mod datagram;
mod floods;
mod goaway;
mod grease_and_origin;
mod headers;
mod lifecycle;
mod priorities;
mod request;
mod robustness;
mod scenarios;
mod send;
mod startup;
mod uni_streams;
mod webtransport;
