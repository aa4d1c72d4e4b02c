//! Extensible priorities (RFC 9218) on a connection: where a stream's [`Priority`] comes
//! from (a request's `priority` field, a PRIORITY_UPDATE, the application), the
//! PRIORITY_UPDATE rules, and telling the transport, which schedules by it.
//!
//! A server learns a request's priority from its head and from PRIORITY_UPDATE frames on
//! the client's control stream; an update for a request stream that has not opened yet is
//! kept (at most [`PENDING_UPDATES`]) and wins over the request's field when it opens. A
//! client sends PRIORITY_UPDATE with [`H3Connection::send_priority_update`]. Either side
//! may set what its own sending is scheduled by with [`H3Connection::set_priority`].

use crate::error::{ErrorCode, ProtocolError};
use crate::frame::{self, frame_type};

use super::connection::H3Connection;
use super::error::H3Error;
use super::event::H3Event;
use super::priority::Priority;
use super::stream::{self, H3Stream, HeadersState, Kind};
use super::transport::Transport;

/// How many PRIORITY_UPDATE frames for request streams that have not opened yet a server
/// keeps; later ones are ignored until some of those streams open (RFC 9218 §7.2 lets a
/// server bound this; priorities are hints, so dropping one is harmless).
pub(crate) const PENDING_UPDATES: usize = 256;

impl<T: Transport> H3Connection<T> {
    /// The priority h3q schedules a request or push stream's sending by, or `None` for a
    /// stream it does not track (unknown, finished, or of another kind).
    pub fn priority(&self, stream_id: u64) -> Option<Priority> {
        self.streams
            .get(&stream_id)
            .filter(|s| matches!(s.kind, Kind::Request | Kind::Push))
            .map(|s| s.priority)
    }

    /// Sets the priority h3q schedules this request or push stream's sending by (a
    /// server: the response; a client: the request body), and tells the transport.
    ///
    /// Errors: an urgency above 7, [`H3Error::InvalidArgument`]; a stream that is no
    /// request or push stream, [`H3Error::InvalidStreamType`]; one h3q does not track,
    /// [`H3Error::FrameUnexpected`] ("stream was already ended"). A transport that fails
    /// to act on it changes nothing: priorities are hints.
    pub fn set_priority(&mut self, stream_id: u64, priority: Priority) -> Result<(), H3Error> {
        self.check_open()?;
        checked_priority(priority)?;
        let stream = self.message_stream(stream_id)?;
        stream.priority = priority;
        // Priorities are hints: a transport that cannot act on one changes nothing here.
        let _ = self.transport.set_stream_priority(stream_id, priority);
        Ok(())
    }

    /// A client asks the server to change the priority of one of its requests, or of a
    /// push, with a PRIORITY_UPDATE frame on its control stream (RFC 9218 §7). The request
    /// need not be open yet; a push is named by its push stream. What the client's own
    /// sending is scheduled by ([`priority`](Self::priority)) does not change: that is
    /// [`set_priority`](Self::set_priority)'s.
    ///
    /// Errors: a server, [`H3Error::WrongRole`]; an urgency above 7,
    /// [`H3Error::InvalidArgument`]; a stream that is neither a client request stream nor
    /// a push stream this client knows, [`H3Error::InvalidStreamType`]; a finished
    /// request, [`H3Error::FrameUnexpected`] ("stream was already ended").
    pub fn send_priority_update(
        &mut self,
        stream_id: u64,
        priority: Priority,
    ) -> Result<(), H3Error> {
        self.check_open()?;
        if !self.is_client {
            return Err(H3Error::WrongRole("only clients send PRIORITY_UPDATE"));
        }
        checked_priority(priority)?;
        let (ty, id) = if stream::is_request_stream(stream_id) {
            if self.bidi_finished(stream_id) {
                return Err(H3Error::FrameUnexpected("stream was already ended"));
            }
            (frame_type::PRIORITY_UPDATE_REQUEST, stream_id)
        } else {
            let push_id = self
                .streams
                .get(&stream_id)
                .filter(|s| matches!(s.kind, Kind::Push))
                .and_then(|s| s.push_id)
                .ok_or(H3Error::InvalidStreamType(
                    "PRIORITY_UPDATE names a request stream or a known push stream",
                ))?;
            (frame_type::PRIORITY_UPDATE_PUSH, push_id)
        };
        let mut buf = Vec::with_capacity(16);
        let value = priority.to_field_value();
        frame::encode_priority_update(ty, id, value.as_bytes(), &mut buf);
        self.transport
            .send_stream_data(self.local_control, &buf, false)?;
        Ok(())
    }

    /// A request or push stream the application may set the priority of.
    fn message_stream(&mut self, stream_id: u64) -> Result<&mut H3Stream, H3Error> {
        let is_message_stream = stream::is_request_stream(stream_id)
            || (stream::is_uni(stream_id)
                && self
                    .streams
                    .get(&stream_id)
                    .is_some_and(|s| matches!(s.kind, Kind::Push)));
        if !is_message_stream {
            return Err(H3Error::InvalidStreamType(
                "only request streams and push streams have a priority",
            ));
        }
        match self.streams.get_mut(&stream_id) {
            Some(s) if matches!(s.kind, Kind::Request | Kind::Push) => Ok(s),
            _ => Err(H3Error::FrameUnexpected("stream was already ended")),
        }
    }

    /// Adopts the priority a message head signals in its `priority` fields (`signalled`,
    /// from [`field_priority`]) for `stream_id`, unless a PRIORITY_UPDATE came first, and
    /// gives it to the transport: a server's received request, a server's own push, a
    /// client's own request.
    pub(super) fn adopt_field_priority(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        signalled: Priority,
    ) {
        if let Some(update) = self.pending_priorities.remove(&stream_id) {
            stream.priority = update;
            stream.priority_updated = true;
        }
        if !stream.priority_updated {
            stream.priority = signalled;
        }
        // Scheduling is the transport's business: whether it succeeds changes nothing here.
        let _ = self
            .transport
            .set_stream_priority(stream_id, stream.priority);
    }

    /// A PRIORITY_UPDATE frame on the client's control stream (a server; a client refuses
    /// the frame from its header).
    pub(super) fn recv_priority_update(
        &mut self,
        ty: u64,
        payload: &[u8],
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let (id, value) = frame::parse_priority_update(payload)?;
        let priority = Priority::parse(value);
        if ty == frame_type::PRIORITY_UPDATE_REQUEST {
            self.update_request_priority(id, priority, out)
        } else {
            self.update_push_priority(id, priority, out)
        }
    }

    fn update_request_priority(
        &mut self,
        stream_id: u64,
        priority: Priority,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if !stream::is_request_stream(stream_id) {
            return Err(ProtocolError::new(
                ErrorCode::IdError,
                format!("PRIORITY_UPDATE names stream {stream_id}, which is not a request stream"),
            ));
        }
        if self.bidi_finished(stream_id) {
            // Over for HTTP/3 (the whole response was handed to the transport), but
            // possibly still being sent: the transport schedules what is left by it.
            let _ = self.transport.set_stream_priority(stream_id, priority);
            return Ok(());
        }
        let Some(stream) = self.streams.get_mut(&stream_id) else {
            // Not open yet (RFC 9218 §7.2): kept, bounded, for when it opens.
            if self.pending_priorities.len() < PENDING_UPDATES
                || self.pending_priorities.contains_key(&stream_id)
            {
                self.pending_priorities.insert(stream_id, priority);
            }
            return Ok(());
        };
        stream.priority = priority;
        stream.priority_updated = true;
        let known = stream.headers_recv != HeadersState::Initial;
        let _ = self.transport.set_stream_priority(stream_id, priority);
        if known {
            out.push(H3Event::PriorityUpdate {
                stream_id,
                push_id: None,
                priority,
            });
        }
        Ok(())
    }

    fn update_push_priority(
        &mut self,
        push_id: u64,
        priority: Priority,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        if push_id >= self.next_push_id {
            return Err(ProtocolError::new(
                ErrorCode::IdError,
                format!("PRIORITY_UPDATE names push {push_id}, which was never promised"),
            ));
        }
        let Some((&stream_id, stream)) = self
            .streams
            .iter_mut()
            .find(|(_, s)| matches!(s.kind, Kind::Push) && s.push_id == Some(push_id))
        else {
            return Ok(()); // finished or cancelled
        };
        stream.priority = priority;
        stream.priority_updated = true;
        let _ = self.transport.set_stream_priority(stream_id, priority);
        out.push(H3Event::PriorityUpdate {
            stream_id,
            push_id: Some(push_id),
            priority,
        });
        Ok(())
    }
}

/// The priority `priority` fields signal: their values joined as one list (RFC 9110
/// §5.3), the defaults without any.
pub(crate) fn field_priority<'a>(fields: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Priority {
    let mut joined: Vec<u8> = Vec::new();
    for (name, value) in fields {
        // An empty field adds no member (and must not leave a dangling comma).
        if name == b"priority" && value.iter().any(|&c| c != b' ' && c != b'\t') {
            if !joined.is_empty() {
                joined.extend_from_slice(b", ");
            }
            joined.extend_from_slice(value);
        }
    }
    Priority::parse(&joined)
}

fn checked_priority(priority: Priority) -> Result<(), H3Error> {
    if priority.is_valid() {
        Ok(())
    } else {
        Err(H3Error::InvalidArgument(format!(
            "urgency {} is above 7",
            priority.urgency
        )))
    }
}
