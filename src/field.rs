//! [`HeaderField`]: one HTTP field line, as QPACK decodes it and HTTP/3 delivers it.

use bytes::Bytes;

/// A borrowed field line `(name, value)`: the form the encoder and the send calls take.
pub type FieldRef<'a> = (&'a [u8], &'a [u8]);

/// One field line (`name: value`). Both halves are reference-counted byte buffers, so
/// fields taken from the QPACK static or dynamic table are shared, not copied.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HeaderField {
    /// The field name, lower case for HTTP/3 (validation is the HTTP/3 layer's job).
    pub name: Bytes,
    /// The field value.
    pub value: Bytes,
}

impl HeaderField {
    /// A field copied from two byte slices.
    pub fn new(name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Self {
        HeaderField {
            name: Bytes::copy_from_slice(name.as_ref()),
            value: Bytes::copy_from_slice(value.as_ref()),
        }
    }

    /// The size RFC 9204 §3.2.1 charges for this field: name + value + 32.
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + 32
    }
}
