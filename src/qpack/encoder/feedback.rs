//! What the decoder tells the encoder, and what the encoder remembers until it does: each
//! section that references the dynamic table is tracked (per stream, in
//! [`Outstanding`](super::outstanding::Outstanding)) until a Section Acknowledgement or a
//! Stream Cancellation settles it; Insert Count Increments and acknowledgements raise the
//! Known Received Count, which decides what may be referenced without blocking and what
//! may be evicted.

use super::Encoder;
use super::outstanding::Section;
use crate::error::{ErrorCode, ProtocolError};
use crate::qpack::instruction::{self, DecoderInstruction, ParseError, Step};

/// How many reset streams' unacknowledged sections are remembered for late
/// acknowledgements.
const FORGOTTEN_MEMORY: usize = 4096;

fn decoder_stream_error(reason: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::QpackDecoderStreamError, reason)
}

impl Encoder {
    /// Sets the Known Received Count (it only grows).
    fn set_known_received(&mut self, count: u64) {
        if count > self.known_received {
            self.known_received = count;
            self.blocking.set(None);
        }
    }

    /// Remembers an encoded section that references the dynamic table until the decoder
    /// acknowledges it (or its stream is cancelled).
    pub(super) fn track_unacknowledged(
        &mut self,
        stream_id: u64,
        required_insert_count: u64,
        min_ref: Option<u64>,
    ) {
        if let Some(min) = min_ref {
            *self.pinned.entry(min).or_insert(0) += 1;
        }
        // The count of blocking streams, when known, changes only if this section makes a
        // stream blocking that was not: kept up to date rather than worked out again.
        if let Some(count) = self.blocking.get() {
            let starts_blocking =
                required_insert_count > self.known_received && !self.stream_is_blocking(stream_id);
            self.blocking
                .set(Some(count + usize::from(starts_blocking)));
        }
        self.outstanding.track(
            stream_id,
            Section {
                required_insert_count,
                min_ref,
            },
        );
    }

    /// Applies decoder-stream bytes from the peer.
    pub fn feed_decoder(&mut self, data: &[u8]) -> Result<(), ProtocolError> {
        let mut reader = std::mem::take(&mut self.reader);
        let result = reader.feed(data, |buf| match instruction::parse_decoder(buf) {
            Ok((instruction, used)) => {
                self.apply(instruction)?;
                Ok(Step::Consumed(used))
            }
            Err(ParseError::NeedMore(n)) => Ok(Step::NeedMore(n)),
            Err(ParseError::Invalid(reason)) => Err(decoder_stream_error(reason)),
        });
        self.reader = reader;
        result
    }

    fn apply(&mut self, instruction: DecoderInstruction) -> Result<(), ProtocolError> {
        match instruction {
            DecoderInstruction::SectionAck(id) => self.acknowledge_section(id),
            DecoderInstruction::StreamCancel(id) => {
                // The decoder will not acknowledge these sections.
                self.forget(id);
                self.forgotten.remove(&id);
                Ok(())
            }
            DecoderInstruction::InsertCountIncrement(n) => {
                if n == 0 {
                    return Err(decoder_stream_error("Insert Count Increment of 0"));
                }
                match self.known_received.checked_add(n) {
                    Some(k) if k <= self.table.insert_count() => {
                        self.set_known_received(k);
                        Ok(())
                    }
                    _ => Err(decoder_stream_error(format!(
                        "Insert Count Increment of {n} beyond the inserts sent"
                    ))),
                }
            }
        }
    }

    fn unpin(&mut self, section: &Section) {
        let Some(min) = section.min_ref else {
            return;
        };
        if let Some(count) = self.pinned.get_mut(&min) {
            *count -= 1;
            if *count == 0 {
                self.pinned.remove(&min);
            }
        }
    }

    /// Handles a Section Acknowledgement for `stream_id` (the oldest unacknowledged section
    /// on it), as if it had arrived on the decoder stream. Offline tools use this for
    /// "immediate acknowledgement".
    pub fn acknowledge_section(&mut self, stream_id: u64) -> Result<(), ProtocolError> {
        if !self.outstanding.has(stream_id) {
            if let Some(rics) = self.forgotten.get_mut(&stream_id) {
                let ric = rics.pop_front().unwrap_or(0);
                if rics.is_empty() {
                    self.forgotten.remove(&stream_id);
                }
                self.set_known_received(ric);
                return Ok(());
            }
        }
        let section = self.outstanding.take_oldest(stream_id).ok_or_else(|| {
            decoder_stream_error(format!(
                "Section Acknowledgement for stream {stream_id} with no outstanding section"
            ))
        })?;
        self.blocking.set(None);
        self.set_known_received(section.required_insert_count);
        self.unpin(&section);
        Ok(())
    }

    /// Treats every insert so far as acknowledged, as an Insert Count Increment would.
    pub fn acknowledge_inserts(&mut self) {
        self.set_known_received(self.table.insert_count());
    }

    /// Forgets a reset stream's unacknowledged sections (as a Stream Cancellation does).
    pub fn stream_cancelled(&mut self, stream_id: u64) {
        let rics = self.forget(stream_id);
        if !rics.is_empty() {
            // Bounded: a peer that neither acknowledges nor cancels must not grow this.
            if self.forgotten.len() >= FORGOTTEN_MEMORY {
                let any = self.forgotten.keys().next().copied();
                if let Some(k) = any {
                    self.forgotten.remove(&k);
                }
            }
            self.forgotten.entry(stream_id).or_default().extend(rics);
        }
    }

    /// Drops a stream's unacknowledged sections, returning their Required Insert Counts.
    fn forget(&mut self, stream_id: u64) -> Vec<u64> {
        let sections = self.outstanding.take_all(stream_id);
        self.blocking.set(None);
        for s in &sections {
            self.unpin(s);
        }
        sections.iter().map(|s| s.required_insert_count).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::encode;
    use super::*;

    #[test]
    fn decoder_stream_errors() {
        let fresh = || {
            let mut e = Encoder::new();
            e.apply_settings(4096, 100, &mut Vec::new());
            e
        };
        let err = fresh().feed_decoder(&[0x84]).unwrap_err();
        assert_eq!(err.code, ErrorCode::QpackDecoderStreamError);
        assert!(err.reason.contains("no outstanding section"), "{err}");
        let err = fresh().feed_decoder(&[0x00]).unwrap_err();
        assert!(err.reason.contains("of 0"), "{err}");
        let mut e = fresh();
        let err = e.feed_decoder(&[0x01]).unwrap_err();
        assert!(err.reason.contains("beyond"), "{err}");
        // The stream is broken from then on: even valid input gets the same error.
        assert_eq!(e.feed_decoder(&[0x48]).unwrap_err(), err);
        let mut e = fresh();
        // A Stream Cancellation for an unknown stream is fine.
        e.feed_decoder(&[0x48]).unwrap();
        // Split anywhere: a Section Acknowledgement for stream 300 in two pieces.
        let list = [("x-a", "1")];
        encode(&mut e, 300, &list);
        encode(&mut e, 300, &list);
        assert_eq!(e.blocking_streams(), 1);
        let mut ack = Vec::new();
        instruction::write_section_ack(&mut ack, 300);
        e.feed_decoder(&ack[..1]).unwrap();
        e.feed_decoder(&ack[1..]).unwrap();
        assert_eq!(e.blocking_streams(), 0);
        assert_eq!(e.known_received_count(), 1);
    }

    #[test]
    fn several_sections_per_stream_and_cancellation() {
        let mut e = Encoder::new();
        let mut es = Vec::new();
        e.apply_settings(4096, 100, &mut es);
        let list = [("x-a", "1")];
        encode(&mut e, 0, &list);
        encode(&mut e, 4, &list); // headers, references entry 0
        encode(&mut e, 4, &list); // trailers, same
        assert_eq!(e.outstanding.count(4), 2);
        e.acknowledge_section(4).unwrap();
        assert_eq!(e.outstanding.count(4), 1);
        e.stream_cancelled(4);
        assert!(e.outstanding.is_empty());
        assert!(e.pinned.is_empty());
        // An acknowledgement already in flight for the forgotten section is accepted once.
        e.feed_decoder(&[0x84]).unwrap();
        assert!(e.feed_decoder(&[0x84]).is_err());
    }
}
