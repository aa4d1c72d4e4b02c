//! Reading C values that Rust may not trust: `bool`s that are not 0 or 1, enums with values
//! outside their range.

/// Reads a C `bool` as its byte: any non-zero value is true.
///
/// # Safety
/// `ptr` is valid for reading one byte.
pub(crate) unsafe fn read_bool(ptr: *const bool) -> bool {
    // SAFETY: readable (caller's contract); read as u8, never as a possibly invalid bool.
    unsafe { ptr.cast::<u8>().read() != 0 }
}

/// Reads a C enum field as its underlying `int`-sized value.
///
/// # Safety
/// `ptr` is valid for reading a 32-bit value (the size of a C enum on supported targets).
pub(crate) unsafe fn read_enum<E>(ptr: *const E) -> u32 {
    const { assert!(std::mem::size_of::<E>() == 4) };
    // SAFETY: readable (caller's contract); read as u32, never as a possibly invalid enum.
    unsafe { ptr.cast::<u32>().read() }
}
