//! Socket addresses across the boundary: `struct sockaddr` in, `struct sockaddr_storage` out.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use libc::{AF_INET, AF_INET6, sockaddr, sockaddr_in, sockaddr_in6, sockaddr_storage, socklen_t};

use super::handle::FfiError;

/// Reads an IPv4 or IPv6 address from C.
///
/// # Safety
/// `addr` is NULL or valid for reading `len` bytes.
pub(crate) unsafe fn sockaddr_from_c(
    addr: *const sockaddr,
    len: socklen_t,
    name: &str,
) -> Result<SocketAddr, FfiError> {
    if addr.is_null() {
        return Err(FfiError::null(name));
    }
    let len = len as usize;
    if len < std::mem::size_of::<libc::sa_family_t>() {
        return Err(FfiError::invalid(format!(
            "{name}: length {len} is too short"
        )));
    }
    // SAFETY: at least the family is readable (checked above); the reads below check the
    // full structure size against `len` first, and use unaligned reads.
    let family = unsafe { (*addr).sa_family } as i32;
    match family {
        AF_INET if len >= std::mem::size_of::<sockaddr_in>() => {
            // SAFETY: `len` covers a sockaddr_in.
            let a = unsafe { addr.cast::<sockaddr_in>().read_unaligned() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        AF_INET6 if len >= std::mem::size_of::<sockaddr_in6>() => {
            // SAFETY: `len` covers a sockaddr_in6.
            let a = unsafe { addr.cast::<sockaddr_in6>().read_unaligned() };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        AF_INET | AF_INET6 => Err(FfiError::invalid(format!(
            "{name}: length {len} is too short for its address family"
        ))),
        other => Err(FfiError::invalid(format!(
            "{name}: address family {other} is neither AF_INET nor AF_INET6"
        ))),
    }
}

/// Writes `addr` as a `sockaddr_in` or `sockaddr_in6` and returns its length.
pub(crate) fn sockaddr_to_c(addr: SocketAddr, out: &mut sockaddr_storage) -> socklen_t {
    // SAFETY: sockaddr_storage is plain data, valid when zeroed.
    *out = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(v4) => {
            let a = sockaddr_in {
                sin_family: AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*v4.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is large and aligned enough for any sockaddr.
            unsafe { std::ptr::from_mut(out).cast::<sockaddr_in>().write(a) };
            std::mem::size_of::<sockaddr_in>() as socklen_t
        }
        SocketAddr::V6(v6) => {
            let a = sockaddr_in6 {
                sin6_family: AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: as above.
            unsafe { std::ptr::from_mut(out).cast::<sockaddr_in6>().write(a) };
            std::mem::size_of::<sockaddr_in6>() as socklen_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_v4_and_v6() {
        for text in ["127.0.0.1:4433", "[::1]:443", "[fe80::1%2]:8443"] {
            let addr: SocketAddr = text.parse().unwrap();
            // SAFETY: zeroed plain data.
            let mut storage: sockaddr_storage = unsafe { std::mem::zeroed() };
            let len = sockaddr_to_c(addr, &mut storage);
            let back = unsafe {
                sockaddr_from_c(std::ptr::from_ref(&storage).cast(), len, "addr").unwrap()
            };
            assert_eq!(back, addr);
        }
    }

    #[test]
    fn rejects_short_lengths_and_other_families() {
        // SAFETY: zeroed plain data.
        let mut storage: sockaddr_storage = unsafe { std::mem::zeroed() };
        let len = sockaddr_to_c("10.0.0.1:1".parse().unwrap(), &mut storage);
        let ptr = std::ptr::from_ref(&storage).cast();
        assert!(unsafe { sockaddr_from_c(ptr, len - 1, "a") }.is_err());
        assert!(unsafe { sockaddr_from_c(ptr, 1, "a") }.is_err());
        storage.ss_family = libc::AF_UNIX as libc::sa_family_t;
        let ptr = std::ptr::from_ref(&storage).cast();
        assert!(unsafe { sockaddr_from_c(ptr, len, "a") }.is_err());
        assert!(unsafe { sockaddr_from_c(std::ptr::null(), len, "a") }.is_err());
    }
}
