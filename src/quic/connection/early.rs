//! 0-RTT on one connection: what became of the early data a resuming client sent, what a
//! rejection undoes, which of a server's request streams arrived early, and the session
//! ticket a client can export.
//!
//! When a server rejects early data, quinn-proto forgets every stream the client opened
//! (they restart from id 0, RFC 9001 §4.6.2 lets nothing of 0-RTT survive) and drops what it
//! had queued; this layer does the same with its own send queues and reports
//! [`Event::EarlyDataRejected`] before `HandshakeCompleted`. The HTTP/3 layer then reports
//! every request it had sent as reset with H3_REQUEST_REJECTED (not processed: safe to
//! retry) and opens its control and QPACK streams again.

use std::sync::Arc;

use quinn_proto::{Dir, StreamId};

use super::Core;
use crate::quic::event::Event;
use crate::quic::session::ConnectionSessions;

/// What became of a client's 0-RTT data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyData {
    /// Not offered: a fresh connection, a session not resumable, a server, or 0-RTT off.
    NotOffered,
    /// Offered and the handshake is still running: what the client sends now goes in
    /// 0-RTT packets.
    Pending,
    /// The server accepted it: what was sent early stands.
    Accepted,
    /// The server refused it: everything sent before the handshake completed was
    /// discarded, and [`Event::EarlyDataRejected`] was reported.
    Rejected,
}

/// 0-RTT state a connection keeps (`Core::early`).
#[derive(Debug, Default)]
pub(crate) struct EarlyState {
    /// A client: its session store (the ticket to export comes from it).
    pub(crate) sessions: Option<Arc<ConnectionSessions>>,
    /// A client: the server name it connected to.
    pub(crate) server_name: Option<String>,
    /// A client: the server's answer, once the handshake completed.
    pub(crate) accepted: Option<bool>,
    /// A server: the peer's bidirectional streams with an index below this were opened
    /// before the handshake completed.
    pub(crate) early_bidi_end: u64,
}

impl Core {
    /// At handshake completion, a client learns whether its early data was accepted; a
    /// rejection is undone here and reported.
    pub(super) fn settle_early_data(&mut self) {
        if !self.is_client() || !self.quinn.has_0rtt() {
            return;
        }
        let accepted = self.quinn.accepted_0rtt();
        self.early.accepted = Some(accepted);
        if !accepted {
            self.forget_local_streams();
            self.events.push_back(Event::EarlyDataRejected);
        }
    }

    /// quinn-proto forgot every locally opened stream; forget what this layer held for them.
    fn forget_local_streams(&mut self) {
        let side = self.side;
        let local = |id: &u64| {
            StreamId::from(quinn_proto::VarInt::from_u64(*id).unwrap_or_default()).initiator()
                == side
        };
        self.outgoing.retain(|id, _| !local(id));
        self.unacknowledged.retain(|id| !local(id));
        self.pending_priority.clear();
        self.writable.clear();
        self.waiting_span = None;
        self.last_in_turn = 0;
        self.claimed = [0; 2];
        self.opened = [0; 2];
    }

    /// Notes, on a server, a peer stream accepted while the handshake is still running.
    pub(super) fn note_early_stream(&mut self, id: StreamId) {
        if !self.established && !self.is_client() && id.dir() == Dir::Bi {
            self.early.early_bidi_end = self.early.early_bidi_end.max(id.index() + 1);
        }
    }

    /// What became of this client's early data.
    pub(crate) fn early_data(&self) -> EarlyData {
        if !self.is_client() || !self.quinn.has_0rtt() {
            return EarlyData::NotOffered;
        }
        match self.early.accepted {
            None => EarlyData::Pending,
            Some(true) => EarlyData::Accepted,
            Some(false) => EarlyData::Rejected,
        }
    }

    /// A server: `stream_id` is a request stream the client opened before the handshake
    /// completed, so its request came (at least in part) in 0-RTT and could be a replay.
    pub(crate) fn is_early_stream(&self, stream_id: u64) -> bool {
        let Ok(id) = super::parse_stream_id(stream_id) else {
            return false;
        };
        !self.is_client()
            && id.initiator() != self.side
            && id.dir() == Dir::Bi
            && id.index() < self.early.early_bidi_end
    }

    /// A client: the ticket of the session the server sent on this connection, while it is
    /// unused (see `quic::session`).
    pub(crate) fn session_ticket(&self) -> Option<Vec<u8>> {
        let sessions = self.early.sessions.as_ref()?;
        let key = sessions.received_key()?;
        let name = self.early.server_name.as_deref()?;
        Some(sessions.registry().ticket(key, name).encode())
    }
}
