//! Receiving on the peer's unidirectional streams (control, QPACK encoder and decoder,
//! push, WebTransport, unknown types) and HTTP datagrams.

use crate::error::{ErrorCode, ProtocolError};
use crate::frame::{
    self, FrameHeader, FrameHeaderReader, SettingsMap, frame_type, setting, stream_type,
};
use crate::varint;

use super::connection::{H3Connection, frame_unexpected, internal};
use super::event::H3Event;
use super::stream::{H3Stream, Kind, Parse};
use super::transport::Transport;

fn stream_creation(reason: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::StreamCreationError, reason)
}

impl<T: Transport> H3Connection<T> {
    /// Data on a unidirectional stream opened by the peer.
    pub(super) fn recv_uni(
        &mut self,
        stream_id: u64,
        data: &[u8],
        fin: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let mut stream = match self.streams.remove(&stream_id) {
            Some(stream) => stream,
            // Ended already: nothing arriving on it opens it again.
            None if self.finished_peer_uni.contains(stream_id / 4) => return Ok(()),
            None => H3Stream::peer_uni(),
        };
        if stream.receiving_ended {
            self.put_back(stream_id, stream);
            return Ok(());
        }
        let result = self.recv_uni_bytes(stream_id, &mut stream, data, fin, out);
        self.put_back(stream_id, stream);
        result
    }

    fn recv_uni_bytes(
        &mut self,
        stream_id: u64,
        stream: &mut H3Stream,
        data: &[u8],
        fin: bool,
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let mut pos = 0;
        loop {
            match &mut stream.kind {
                Kind::UniType(reader) => match reader.read(data, &mut pos) {
                    Some(ty) => stream.kind = self.open_uni(stream_id, ty)?,
                    None => {
                        // Ended before its type: nothing to do with it.
                        stream.receiving_ended |= fin;
                        return Ok(());
                    }
                },
                Kind::Control => {
                    if fin {
                        return Err(ProtocolError::new(
                            ErrorCode::ClosedCriticalStream,
                            "Closing control stream is not allowed",
                        ));
                    }
                    return self.parse_control_frames(stream, &data[pos..], out);
                }
                Kind::QpackEncoder => {
                    let unblocked = self.decoder.feed_encoder(&data[pos..]).map_err(|e| {
                        if e.code == ErrorCode::ExcessiveLoad {
                            e
                        } else {
                            ProtocolError::new(ErrorCode::QpackEncoderStreamError, "")
                        }
                    })?;
                    self.flush_decoder_stream()?;
                    if fin {
                        return Err(ProtocolError::new(
                            ErrorCode::ClosedCriticalStream,
                            "Closing QPACK encoder stream is not allowed",
                        ));
                    }
                    return self.resume_unblocked(unblocked, out);
                }
                Kind::QpackDecoder => {
                    self.encoder
                        .feed_decoder(&data[pos..])
                        .map_err(|_| ProtocolError::new(ErrorCode::QpackDecoderStreamError, ""))?;
                    if fin {
                        return Err(ProtocolError::new(
                            ErrorCode::ClosedCriticalStream,
                            "Closing QPACK decoder stream is not allowed",
                        ));
                    }
                    return Ok(());
                }
                Kind::PushId(reader) => match reader.read(data, &mut pos) {
                    Some(push_id) => {
                        self.check_push_id(push_id)?;
                        let cancelled = self.open_push_stream(stream_id, push_id)?;
                        stream.push_id = Some(push_id);
                        // A cancelled push's stream is stopped; what still arrives is
                        // read and discarded.
                        stream.kind = if cancelled { Kind::Ignored } else { Kind::Push };
                    }
                    None => {
                        stream.receiving_ended |= fin;
                        return Ok(());
                    }
                },
                Kind::Push => {
                    return self.recv_request_bytes(stream_id, stream, &data[pos..], fin, out);
                }
                Kind::WebTransportSession(reader) => match reader.read(data, &mut pos) {
                    Some(session_id) => {
                        stream.session_id = Some(session_id);
                        stream.kind = Kind::WebTransport;
                    }
                    None => {
                        stream.receiving_ended |= fin;
                        return Ok(());
                    }
                },
                Kind::WebTransport => {
                    let chunk = &data[pos..];
                    if !chunk.is_empty() || fin {
                        out.push(H3Event::WebTransportStreamDataReceived {
                            stream_id,
                            data: self.payload_bytes(chunk),
                            stream_ended: fin,
                            session_id: stream.session_id.unwrap_or_default(),
                        });
                    }
                    stream.receiving_ended |= fin;
                    return Ok(());
                }
                Kind::Ignored => {
                    stream.receiving_ended |= fin;
                    return Ok(());
                }
                Kind::Request => return Ok(()),
            }
        }
    }

    /// A peer's unidirectional stream announced its type.
    fn open_uni(&mut self, stream_id: u64, ty: u64) -> Result<Kind, ProtocolError> {
        Ok(match ty {
            stream_type::CONTROL => {
                if self.peer_control.is_some() {
                    return Err(stream_creation("Only one control stream is allowed"));
                }
                self.peer_control = Some(stream_id);
                Kind::Control
            }
            stream_type::PUSH => {
                if !self.is_client {
                    return Err(stream_creation("Clients must not open push streams"));
                }
                Kind::PushId(Default::default())
            }
            stream_type::QPACK_ENCODER => {
                if self.peer_encoder.is_some() {
                    return Err(stream_creation("Only one QPACK encoder stream is allowed"));
                }
                self.peer_encoder = Some(stream_id);
                Kind::QpackEncoder
            }
            stream_type::QPACK_DECODER => {
                if self.peer_decoder.is_some() {
                    return Err(stream_creation("Only one QPACK decoder stream is allowed"));
                }
                self.peer_decoder = Some(stream_id);
                Kind::QpackDecoder
            }
            stream_type::WEBTRANSPORT => Kind::WebTransportSession(Default::default()),
            _ => Kind::Ignored,
        })
    }

    /// Frames on the peer's control stream. SETTINGS and MAX_PUSH_ID are kept whole
    /// (bounded); everything else allowed is skipped as it streams in.
    fn parse_control_frames(
        &mut self,
        stream: &mut H3Stream,
        data: &[u8],
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let mut pos = 0;
        loop {
            match &mut stream.parse {
                Parse::Header(reader) => {
                    if pos == data.len() {
                        return Ok(());
                    }
                    let Some(header) = reader.read(data, &mut pos) else {
                        return Ok(());
                    };
                    if !matches!(header.ty, frame_type::SETTINGS | frame_type::MAX_PUSH_ID) {
                        self.count_cheap_frame(stream, header.len)?;
                    }
                    stream.parse = self.start_control_frame(header)?;
                }
                Parse::Skip { remaining } => {
                    let n = (*remaining).min((data.len() - pos) as u64) as usize;
                    *remaining -= n as u64;
                    pos += n;
                    if *remaining > 0 {
                        return Ok(());
                    }
                    stream.parse = Parse::Header(FrameHeaderReader::default());
                }
                Parse::Whole { ty, len, buf } => {
                    let n = (*len - buf.len()).min(data.len() - pos);
                    buf.extend_from_slice(&data[pos..pos + n]);
                    pos += n;
                    if buf.len() < *len {
                        return Ok(());
                    }
                    let ty = *ty;
                    let payload = std::mem::take(buf);
                    stream.parse = Parse::Header(FrameHeaderReader::default());
                    self.handle_control_frame(ty, &payload, out)?;
                }
                Parse::Data { .. } | Parse::WebTransport => {
                    unreachable!("control streams carry no DATA or WebTransport data")
                }
            }
        }
    }

    /// Checks a control frame from its header alone and decides how to read it.
    fn start_control_frame(&mut self, header: FrameHeader) -> Result<Parse, ProtocolError> {
        let settings_received = self.received_settings.is_some();
        if header.ty != frame_type::SETTINGS && !settings_received {
            return Err(ProtocolError::new(ErrorCode::MissingSettings, ""));
        }
        match header.ty {
            frame_type::SETTINGS if settings_received => {
                Err(frame_unexpected("SETTINGS have already been received"))
            }
            frame_type::SETTINGS => {
                let limit = self.settings.max_buffered_frame_size;
                if header.len > limit {
                    return Err(ProtocolError::new(
                        ErrorCode::ExcessiveLoad,
                        format!("Frame of type 0x4 exceeds {limit} bytes"),
                    ));
                }
                Ok(whole(header))
            }
            frame_type::MAX_PUSH_ID if self.is_client => {
                Err(frame_unexpected("Servers must not send MAX_PUSH_ID"))
            }
            frame_type::MAX_PUSH_ID | frame_type::GOAWAY | frame_type::CANCEL_PUSH => {
                if header.len > 8 {
                    // Longer than any varint: whatever it holds, it has trailing data.
                    return Err(ProtocolError::new(
                        ErrorCode::FrameError,
                        format!("{} frame has trailing data", id_frame_name(header.ty)),
                    ));
                }
                Ok(whole(header))
            }
            // A server ignores ORIGIN (RFC 9412 §2); a client keeps it whole, bounded.
            frame_type::ORIGIN if self.is_client => {
                let limit = self.settings.max_buffered_frame_size;
                if header.len > limit {
                    return Err(ProtocolError::new(
                        ErrorCode::ExcessiveLoad,
                        format!("Frame of type 0xc exceeds {limit} bytes"),
                    ));
                }
                Ok(whole(header))
            }
            frame_type::PRIORITY_UPDATE_REQUEST | frame_type::PRIORITY_UPDATE_PUSH
                if self.is_client =>
            {
                Err(frame_unexpected("Servers must not send PRIORITY_UPDATE"))
            }
            frame_type::PRIORITY_UPDATE_REQUEST | frame_type::PRIORITY_UPDATE_PUSH => {
                let limit = self.settings.max_buffered_frame_size;
                if header.len > limit {
                    return Err(ProtocolError::new(
                        ErrorCode::ExcessiveLoad,
                        format!("Frame of type {:#x} exceeds {limit} bytes", header.ty),
                    ));
                }
                Ok(whole(header))
            }
            frame_type::DATA | frame_type::HEADERS | frame_type::PUSH_PROMISE => {
                Err(frame_unexpected("Invalid frame type on control stream"))
            }
            ty if frame_type::is_http2_only(ty) => {
                Err(frame_unexpected("Invalid frame type on control stream"))
            }
            _ if header.len == 0 => Ok(Parse::Header(FrameHeaderReader::default())),
            _ => Ok(Parse::Skip {
                remaining: header.len,
            }),
        }
    }

    fn handle_control_frame(
        &mut self,
        ty: u64,
        payload: &[u8],
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        match ty {
            frame_type::GOAWAY => {
                let id = frame::parse_id_frame("GOAWAY", payload)?;
                return self.recv_goaway(id, out);
            }
            frame_type::CANCEL_PUSH => {
                let push_id = frame::parse_id_frame("CANCEL_PUSH", payload)?;
                return self.recv_cancel_push(push_id, out);
            }
            frame_type::ORIGIN => return self.recv_origin(payload, out),
            frame_type::PRIORITY_UPDATE_REQUEST | frame_type::PRIORITY_UPDATE_PUSH => {
                return self.recv_priority_update(ty, payload, out);
            }
            _ => {}
        }
        if ty == frame_type::SETTINGS {
            let settings = frame::parse_settings(payload, self.settings.max_settings_entries)?;
            self.validate_peer_settings(&settings)?;
            let mut buf = std::mem::take(&mut self.scratch);
            buf.clear();
            self.encoder.apply_settings(
                settings
                    .get(&setting::QPACK_MAX_TABLE_CAPACITY)
                    .copied()
                    .unwrap_or(0),
                settings
                    .get(&setting::QPACK_BLOCKED_STREAMS)
                    .copied()
                    .unwrap_or(0),
                &mut buf,
            );
            let sent = self.send_encoder_stream(&buf);
            self.scratch = buf;
            sent.map_err(internal)?;
            self.received_settings = Some(settings);
        } else {
            let max_push_id = frame::parse_max_push_id(payload)?;
            if self
                .max_push_id
                .is_some_and(|current| max_push_id < current)
            {
                return Err(ProtocolError::new(
                    ErrorCode::IdError,
                    "MAX_PUSH_ID reduced the maximum push ID",
                ));
            }
            self.max_push_id = Some(max_push_id);
        }
        Ok(())
    }

    fn validate_peer_settings(&self, settings: &SettingsMap) -> Result<(), ProtocolError> {
        let settings_error = |reason: String| ProtocolError::new(ErrorCode::SettingsError, reason);
        for id in [
            setting::ENABLE_CONNECT_PROTOCOL,
            setting::ENABLE_WEBTRANSPORT,
            setting::H3_DATAGRAM,
        ] {
            if settings.get(&id).is_some_and(|v| *v > 1) {
                let name = setting::name(id).expect("named setting");
                return Err(settings_error(format!("{name} setting must be 0 or 1")));
            }
        }
        let datagram = settings.get(&setting::H3_DATAGRAM).copied();
        if datagram == Some(1) && self.transport.remote_max_datagram_frame_size() == 0 {
            return Err(settings_error(
                "H3_DATAGRAM requires max_datagram_frame_size transport parameter".into(),
            ));
        }
        if settings.get(&setting::ENABLE_WEBTRANSPORT) == Some(&1) && datagram != Some(1) {
            return Err(settings_error(
                "ENABLE_WEBTRANSPORT requires H3_DATAGRAM".into(),
            ));
        }
        Ok(())
    }

    /// A QUIC DATAGRAM frame: quarter stream id, then the payload.
    pub(super) fn recv_datagram(
        &mut self,
        data: &[u8],
        out: &mut Vec<H3Event>,
    ) -> Result<(), ProtocolError> {
        let (quarter, n) = varint::decode(data).map_err(|_| {
            ProtocolError::new(
                ErrorCode::DatagramError,
                "Could not parse quarter stream ID",
            )
        })?;
        out.push(H3Event::DatagramReceived {
            stream_id: quarter * 4,
            data: self.payload_bytes(&data[n..]),
        });
        Ok(())
    }
}

/// The name of a frame that carries one id, for its error reasons.
fn id_frame_name(ty: u64) -> &'static str {
    match ty {
        frame_type::GOAWAY => "GOAWAY",
        frame_type::CANCEL_PUSH => "CANCEL_PUSH",
        _ => "MAX_PUSH_ID",
    }
}

fn whole(header: FrameHeader) -> Parse {
    Parse::Whole {
        ty: header.ty,
        len: header.len as usize,
        buf: Vec::new(),
    }
}
