//! Small stream writes, copied into shared chunks instead of one allocation each.
//!
//! quinn-proto keeps stream data as `Bytes` until the peer acknowledges it. Handed a
//! borrowed slice, it copies the slice into a `Bytes` of its own: one allocation (and a
//! free on acknowledgement) per write. A small response is three writes (HEADERS frame,
//! DATA frame header and body in one, sometimes an empty FIN), so on small requests those
//! allocations were about 3 % of a server's instructions. Here small writes are copied
//! one after another into a chunk of [`CHUNK`] bytes and handed on as slices of it: one
//! allocation per chunk. (16 KiB rather than 4: glibc serves neither size from its
//! per-thread cache, so an allocation of either costs about a thousand instructions, and
//! the larger chunk needs a quarter as many.)
//!
//! The trade-off is memory held: a chunk is freed when every slice of it is acknowledged
//! (or dropped with its stream) and the connection has moved on to another chunk or let
//! go of it. So a connection drops its current chunk once none of its streams has data
//! waiting for acknowledgement ([`SmallWrites::release`]): an idle connection holds none.
//! A slice that stays unacknowledged (a peer that stops acknowledging) keeps at most one
//! chunk per slice alive, [`CHUNK`] bytes rather than the slice's own size: bounded, per
//! connection, by what quinn-proto's send window lets it keep unacknowledged.

use bytes::{Bytes, BytesMut};

/// The largest write copied into a chunk; larger ones get an allocation of their own.
pub(super) const SMALL_WRITE_MAX: usize = 1200;

/// The size of one chunk.
const CHUNK: usize = 16 * 1024;

/// The chunk small writes are copied into now (empty until the first one).
#[derive(Default)]
pub(super) struct SmallWrites {
    chunk: BytesMut,
}

impl SmallWrites {
    /// A copy of `data` (at most [`SMALL_WRITE_MAX`] bytes, else a copy of its own) that
    /// shares its allocation with the writes around it.
    pub(super) fn copy(&mut self, data: &[u8]) -> Bytes {
        if data.len() > SMALL_WRITE_MAX {
            return Bytes::copy_from_slice(data);
        }
        self.copy_mut(data).freeze()
    }

    /// [`SmallWrites::copy`] of at most [`SMALL_WRITE_MAX`] bytes, left mutable: a copy
    /// made right after it is adjacent in the same chunk, so `BytesMut::unsplit` joins the
    /// two without copying (`deferred.rs` joins a response's HEADERS and DATA that way).
    pub(super) fn copy_mut(&mut self, data: &[u8]) -> BytesMut {
        debug_assert!(self.chunk.is_empty(), "every write is split off whole");
        debug_assert!(data.len() <= SMALL_WRITE_MAX);
        // A chunk whose slices are all gone is used again from its start.
        if self.chunk.capacity() < data.len() && !self.chunk.try_reclaim(data.len()) {
            self.chunk = BytesMut::with_capacity(CHUNK.max(data.len()));
        }
        self.chunk.extend_from_slice(data);
        self.chunk.split()
    }

    /// A copy of `data` in the current chunk if there is one, else a copy of its own: for
    /// writes that should not start a chunk (see `Core::send`).
    pub(super) fn copy_if_held(&mut self, data: &[u8]) -> Bytes {
        if self.holds_chunk() {
            self.copy(data)
        } else {
            Bytes::copy_from_slice(data)
        }
    }

    /// Lets go of the current chunk: it is freed as soon as its slices are.
    pub(super) fn release(&mut self) {
        self.chunk = BytesMut::new();
    }

    /// Whether a chunk is held.
    fn holds_chunk(&self) -> bool {
        self.chunk.capacity() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Consecutive small writes are slices of one chunk, in order and intact; a write that
    /// does not fit starts a new chunk; a large write is a copy of its own.
    #[test]
    fn writes_share_chunks() {
        let mut writes = SmallWrites::default();
        let pieces: Vec<Vec<u8>> = (0..40u8)
            .map(|i| vec![i; 37 + usize::from(i) * 29])
            .collect();
        let mut copies = Vec::new();
        for piece in &pieces {
            copies.push(writes.copy(piece));
        }
        let mut chunks = 1;
        for (i, (copy, piece)) in copies.iter().zip(&pieces).enumerate() {
            assert_eq!(copy.as_ref(), piece.as_slice());
            if i > 0 {
                let previous = &copies[i - 1];
                let adjacent = previous.as_ptr().wrapping_add(previous.len()) == copy.as_ptr();
                if !adjacent {
                    chunks += 1;
                }
            }
        }
        let total: usize = pieces.iter().map(Vec::len).sum();
        assert!(
            chunks <= total / (CHUNK - SMALL_WRITE_MAX) + 1,
            "{chunks} chunks for {total} bytes"
        );
        assert!(chunks > 1);

        let large = vec![7u8; SMALL_WRITE_MAX + 1];
        let copy = writes.copy(&large);
        assert_eq!(copy.as_ref(), large.as_slice());
        let next = writes.copy(b"after");
        assert_ne!(copy.as_ptr().wrapping_add(copy.len()), next.as_ptr());
    }

    /// A chunk whose slices have all been dropped is filled again from its start, without
    /// a new allocation; one with a slice alive is not.
    #[test]
    fn settled_chunk_is_reused() {
        const PIECE: usize = 1000;
        const PER_CHUNK: usize = CHUNK / PIECE;
        let mut writes = SmallWrites::default();
        let first = writes.copy(&[1; PIECE]);
        let start = first.as_ptr();
        drop(first);
        for _ in 1..PER_CHUNK {
            drop(writes.copy(&[2; PIECE]));
        }
        // Less than a piece left at the end; every slice gone: the chunk starts over.
        let reused = writes.copy(&[3; PIECE]);
        assert_eq!(reused.as_ptr(), start);
        assert_eq!(reused.as_ref(), &[3; PIECE][..]);
        for _ in 1..PER_CHUNK {
            drop(writes.copy(&[4; PIECE]));
        }
        // `reused` is alive: a new chunk.
        let fresh = writes.copy(&[5; PIECE]);
        let within = |p: *const u8| p >= start && p < start.wrapping_add(CHUNK);
        assert!(!within(fresh.as_ptr()));
        assert_eq!(reused.as_ref(), &[3; PIECE][..]);
    }

    /// Released, the buffer holds nothing until the next write; the slices handed out stay
    /// valid.
    #[test]
    fn release_lets_go() {
        let mut writes = SmallWrites::default();
        assert!(!writes.holds_chunk());
        let a = writes.copy(b"HEADERS");
        assert!(writes.holds_chunk());
        writes.release();
        assert!(!writes.holds_chunk());
        assert_eq!(a.as_ref(), b"HEADERS");
        let b = writes.copy(b"DATA");
        assert_eq!(b.as_ref(), b"DATA");
        assert!(writes.holds_chunk());
        assert_eq!(writes.copy(b"").len(), 0);
        writes.release();
        assert_eq!(writes.copy_if_held(b"ack").as_ref(), b"ack");
        assert!(!writes.holds_chunk());
        let held = writes.copy(b"x");
        let next = writes.copy_if_held(b"y");
        assert_eq!(held.as_ptr().wrapping_add(1), next.as_ptr());
    }
}
