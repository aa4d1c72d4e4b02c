//! Connection tests, one file per section of H3-BEHAVIOUR.md. Each rule runs byte by byte
//! and in large chunks where delivery can matter.

mod blocked;
mod control;
mod datagram;
mod headers;
mod lifecycle;
mod request;
mod robustness;
mod scenarios;
mod send;
mod startup;
mod uni_streams;
mod webtransport;
