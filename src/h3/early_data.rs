//! A client's 0-RTT attempt rejected by the server (`QuicEvent::EarlyDataRejected`).
//!
//! The QUIC layer has forgotten every stream the client opened: our control and QPACK
//! streams and every request sent early. Nothing of the server's can have arrived yet (its
//! 1-RTT data is read only once the handshake completed, after this event), and the QPACK
//! encoder used no dynamic table (the server's SETTINGS were not known), so HTTP/3 starts
//! again from a clean state: each request sent early is reported as a `StreamReset` with
//! H3_REQUEST_REJECTED, which RFC 9114 §4.1.1 defines as "not processed, safe to retry",
//! and the control and QPACK streams are opened again. Requests sent after this event use
//! stream ids from 0 again.

use crate::error::{ErrorCode, ProtocolError};
use crate::qpack::Encoder;

use super::connection::H3Connection;
use super::event::H3Event;
use super::id_set::IdSet;
use super::stream;
use super::transport::Transport;

impl<T: Transport> H3Connection<T> {
    pub(super) fn recv_early_data_rejected(
        &mut self,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if !self.is_client || self.received_settings.is_some() {
            // Only a client sends early data, and only before the server's SETTINGS could
            // arrive: a transport reporting it otherwise is wrong; there is nothing sound
            // to undo, so the event is ignored.
            return Ok(());
        }
        // Our requests still waiting for their response: all of them, since nothing of
        // the server's was read yet (one whose response side ended, reset say, was
        // reported as such already).
        let ours = |id: &u64| stream::is_client_initiated(*id);
        let mut rejected: Vec<u64> = self
            .streams
            .iter()
            .filter(|(id, s)| ours(id) && !stream::is_uni(**id) && !s.receiving_ended)
            .map(|(id, _)| *id)
            .collect();
        rejected.sort_unstable();
        for stream_id in rejected {
            out.push(H3Event::StreamReset {
                stream_id,
                error_code: ErrorCode::RequestRejected.wire(),
                push_id: None,
            });
        }
        self.max_local_bidi = None;
        self.streams.retain(|id, _| !ours(id));
        self.buffering.retain(|id| !ours(id));
        self.finished_bidi[0] = IdSet::default();
        self.encoder = Encoder::new();
        self.reopen_local_streams().map_err(|e| {
            ProtocolError::new(
                ErrorCode::InternalError,
                format!("cannot reopen the control streams after 0-RTT was rejected: {e}"),
            )
        })
    }
}
