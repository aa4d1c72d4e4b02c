/** @file h3q/http3.hpp
 * HTTP/3 in C++ (part of h3q.hpp): h3q::h3_connection with its events (h3q::event_view,
 * h3q::event), and h3q::transport for a QUIC stack of your own.
 */
#ifndef H3Q_HTTP3_HPP
#define H3Q_HTTP3_HPP

#include "core.hpp"
#include "quic.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

/** @addtogroup cpp
 * @{
 */

namespace h3q {

/**
 * An HTTP event, owned: a copy of an h3q_event with its fields and bytes, valid for as long
 * as the object lives. Fields a type does not use are zero or empty, as in h3q_event.
 */
struct event {
    h3q_event_type type = H3Q_EVENT_HEADERS_RECEIVED; /**< What happened. */
    uint64_t stream_id = 0;     /**< The request or push stream (see h3q_event). */
    bool stream_ended = false;  /**< FIN followed. */
    std::optional<uint64_t> push_id; /**< The push id, when the event has one. */
    std::vector<field> headers; /**< HEADERS, PUSH_PROMISE and ORIGIN fields. */
    std::string data;           /**< DATA, datagram or WebTransport bytes; a close's reason. */
    uint64_t session_id = 0;    /**< The WebTransport session. */
    uint64_t error_code = 0;    /**< A reset's, stop's or close's code. */
    h3q_error_space error_space = H3Q_ERROR_SPACE_UNSPECIFIED; /**< The code's space. */
    bool closed_by_peer = false;        /**< H3Q_EVENT_CONNECTION_CLOSED: by the peer. */
    h3q_priority priority = {3, false}; /**< H3Q_EVENT_PRIORITY_UPDATE: the new priority. */

    /** The value of the first field named `name`, if any (borrowed from this event). */
    std::optional<std::string_view> header(std::string_view name) const {
        for (const field &f : headers) {
            if (f.name == name) return std::string_view(f.value);
        }
        return std::nullopt;
    }
};

/**
 * An HTTP event, borrowed: a view of the h3q_event an event callback receives. It and
 * everything it returns (field views, bytes) are valid only during the callback; `copy()`
 * makes an h3q::event to keep.
 */
class event_view {
public:
    /** A view of `raw`, valid as long as `raw` is. */
    explicit event_view(const h3q_event &raw) noexcept : raw_(&raw) {}

    /** The C struct. */
    const h3q_event &raw() const noexcept { return *raw_; }
    /** What happened. */
    h3q_event_type type() const noexcept { return raw_->type; }
    /** The request or push stream. */
    uint64_t stream_id() const noexcept { return raw_->stream_id; }
    /** FIN followed this event's frame or bytes. */
    bool stream_ended() const noexcept { return raw_->stream_ended; }
    /** The push id, when the event has one. */
    std::optional<uint64_t> push_id() const noexcept {
        return raw_->has_push_id ? std::optional<uint64_t>(raw_->push_id) : std::nullopt;
    }
    /** DATA, datagram or WebTransport bytes; a close's reason phrase. */
    bytes_view data() const noexcept { return bytes_view(raw_->data, raw_->data_len); }
    /** How many fields the event carries. */
    size_t header_count() const noexcept { return raw_->headers_len; }
    /** Field `i` (below header_count()). */
    field_view header_at(size_t i) const noexcept {
        const h3q_header &h = raw_->headers[i];
        return field_view{detail::view_of(h.name, h.name_len),
                          detail::view_of(h.value, h.value_len)};
    }
    /** The value of the first field named `name`, if any. */
    std::optional<std::string_view> header(std::string_view name) const noexcept {
        for (size_t i = 0; i < header_count(); i++) {
            if (header_at(i).name == name) return header_at(i).value;
        }
        return std::nullopt;
    }
    /** A copy that outlives the callback. */
    event copy() const {
        event e;
        e.type = raw_->type;
        e.stream_id = raw_->stream_id;
        e.stream_ended = raw_->stream_ended;
        e.push_id = push_id();
        e.headers = detail::copy_fields(raw_->headers, raw_->headers_len);
        e.data = data().to_string();
        e.session_id = raw_->session_id;
        e.error_code = raw_->error_code;
        e.error_space = raw_->error_space;
        e.closed_by_peer = raw_->closed_by_peer;
        e.priority = raw_->priority;
        return e;
    }

private:
    const h3q_event *raw_;
};

/**
 * A QUIC stack of your own, seen from HTTP/3: derive from it, implement the required
 * functions, and pass it to the h3q::h3_connection constructor, which builds the
 * h3q_transport table from it. The object must outlive the connection. Each function is
 * the entry of h3q_transport of the same name; an exception it throws is caught at the
 * C boundary and reported to h3q as a failure (`H3Q_ERR_TRANSPORT`; close() and
 * set_stream_priority() have no failure, so there it is dropped).
 */
class transport {
public:
    virtual ~transport() = default;
    /** True when this endpoint is the client. */
    virtual bool is_client() const = 0;
    /** The peer's max_datagram_frame_size transport parameter (0: none). */
    virtual uint64_t remote_max_datagram_frame_size() const { return 0; }
    /** Queues `data` on `stream_id`, then FIN if `end_stream`: must accept every byte. */
    virtual void send_stream_data(uint64_t stream_id, bytes_view data, bool end_stream) = 0;
    /** The id of the next stream this endpoint may open. */
    virtual uint64_t next_stream_id(bool unidirectional) = 0;
    /** RESET_STREAM. */
    virtual void reset_stream(uint64_t stream_id, uint64_t error_code) = 0;
    /** STOP_SENDING. */
    virtual void stop_stream(uint64_t stream_id, uint64_t error_code) = 0;
    /** One QUIC DATAGRAM frame; the default refuses (HTTP datagrams then fail). */
    virtual void send_datagram_frame(bytes_view data) {
        (void)data;
        throw error(H3Q_ERR_TRANSPORT, "datagrams are not supported by this transport");
    }
    /** Closes the connection with an HTTP/3 error code and reason phrase. */
    virtual void close(uint64_t error_code, std::string_view reason) = 0;
    /** RFC 9218 scheduling hint; the default ignores it. */
    virtual void set_stream_priority(uint64_t stream_id, uint8_t urgency, bool incremental) {
        (void)stream_id;
        (void)urgency;
        (void)incremental;
    }

    /** The C table calling this object (h3q copies it). */
    h3q_transport table() {
        h3q_transport t{};
        t.user_data = this;
        t.is_client = is_client();
        t.remote_max_datagram_frame_size = remote_max_datagram_frame_size();
        t.send_stream_data = [](void *self, uint64_t id, const uint8_t *data, size_t len,
                                bool end) noexcept {
            return guard([&] { of(self).send_stream_data(id, bytes_view(data, len), end); });
        };
        t.get_next_available_stream_id = [](void *self, bool uni, uint64_t *out) noexcept {
            return guard([&] { *out = of(self).next_stream_id(uni); });
        };
        t.reset_stream = [](void *self, uint64_t id, uint64_t code) noexcept {
            return guard([&] { of(self).reset_stream(id, code); });
        };
        t.stop_stream = [](void *self, uint64_t id, uint64_t code) noexcept {
            return guard([&] { of(self).stop_stream(id, code); });
        };
        t.send_datagram_frame = [](void *self, const uint8_t *data, size_t len) noexcept {
            return guard([&] { of(self).send_datagram_frame(bytes_view(data, len)); });
        };
        t.close = [](void *self, uint64_t code, const uint8_t *reason, size_t len) noexcept {
            guard([&] { of(self).close(code, detail::view_of(reason, len)); });
        };
        t.set_stream_priority = [](void *self, uint64_t id, uint8_t urgency,
                                   bool incremental) noexcept {
            return guard([&] { of(self).set_stream_priority(id, urgency, incremental); });
        };
        return t;
    }

private:
    static transport &of(void *self) noexcept { return *static_cast<transport *>(self); }
    template <class F> static int guard(F &&body) noexcept {
        try {
            body();
            return 0;
        } catch (...) {
            return -1;
        }
    }
};

/**
 * An HTTP/3 connection (h3q_conn), owned: over a built-in h3q::quic_connection or over an
 * h3q::transport of your own. Either it or its h3q::quic_connection may be destroyed first.
 */
class h3_connection {
public:
    /** h3q_conn_new_quic(): HTTP/3 over `quic` (which stays owned by the caller);
     * `settings` NULL for the defaults. */
    explicit h3_connection(quic_connection &quic, const h3q_settings *settings = nullptr) {
        h3q_conn *raw = nullptr;
        detail::check(h3q_conn_new_quic(quic.get(), settings, &raw));
        h_ = owner_type(raw);
    }
    /** h3q_conn_new(): HTTP/3 over your QUIC stack; `over` must outlive the connection. */
    explicit h3_connection(transport &over, const h3q_settings *settings = nullptr) {
        h3q_transport table = over.table();
        h3q_conn *raw = nullptr;
        detail::check(h3q_conn_new(&table, settings, &raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit h3_connection(h3q_conn *raw) noexcept : h_(raw) {}

    /** h3q_settings_default(). */
    static h3q_settings default_settings() {
        h3q_settings s{};
        detail::check(h3q_settings_default(&s));
        return s;
    }

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_conn *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_conn_free(). */
    h3q_conn *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_conn_last_error(): borrowed, valid until the next failing call; may be NULL. */
    const char *last_error() const noexcept { return h3q_conn_last_error(get()); }

    /**
     * h3q_conn_handle_event(): calls `on_event(const h3q::event_view &)` for each HTTP event
     * `quic_event` produces, in order; the view is valid during that call only. The callback
     * may send on this connection, but must not destroy or move it. If the callback throws,
     * h3q still delivers the remaining events of this call to it, and the first exception
     * is thrown again once h3q has returned (exceptions never cross the C ABI). Throws
     * h3q::error for a refused event or a protocol violation of the peer
     * (`H3Q_ERR_PROTOCOL`: h3q closed the connection; close_code() says how).
     */
    template <class F> void handle_event(const h3q_quic_event &quic_event, F &&on_event) {
        sink<std::remove_reference_t<F>> s{&on_event, nullptr};
        h3q_result r = h3q_conn_handle_event(get(), &quic_event,
                                             &sink<std::remove_reference_t<F>>::deliver, &s);
        if (s.failure) std::rethrow_exception(s.failure);
        detail::check(r, get());
    }
    /** h3q_conn_handle_event(), with the events copied out. */
    std::vector<event> handle_event(const h3q_quic_event &quic_event) {
        std::vector<event> out;
        handle_event(quic_event, [&out](const event_view &e) { out.push_back(e.copy()); });
        return out;
    }
    /** h3q_conn_close_code(): the code and its space, or nothing while the connection is
     * open. */
    std::optional<std::pair<uint64_t, h3q_error_space>> close_code() {
        std::pair<uint64_t, h3q_error_space> out{0, H3Q_ERROR_SPACE_UNSPECIFIED};
        if (detail::check(h3q_conn_close_code(get(), &out.first, &out.second), get()) ==
            H3Q_DONE) {
            return std::nullopt;
        }
        return out;
    }
    /** h3q_conn_send_headers(), as in `send_headers(id, {{":status", "200"}}, false)`. */
    void send_headers(uint64_t stream_id, fields_view headers, bool end_stream) {
        std::vector<h3q_header> c = detail::to_c(headers);
        detail::check(h3q_conn_send_headers(get(), stream_id, c.data(), c.size(), end_stream),
                      get());
    }
    /** h3q_conn_send_data(): `data` is copied (read during the call). */
    void send_data(uint64_t stream_id, bytes_view data, bool end_stream) {
        detail::check(h3q_conn_send_data(get(), stream_id, data.data(), data.size(), end_stream),
                      get());
    }
    /**
     * h3q_conn_send_data_zerocopy(): h3q reads `data` in place until it runs `release`
     * (any callable, moved to the heap), exactly once, also when this call fails, possibly
     * before it returns. Keep the bytes valid and unchanged until then. `release` runs
     * inside a later h3q call (an endpoint receive, a free ...): it must not call h3q on
     * this connection or its endpoint, and must not throw (std::terminate).
     */
    template <class F> void send_data_zerocopy(uint64_t stream_id, bytes_view data,
                                               bool end_stream, F release) {
        std::unique_ptr<F> held;
        try {
            held = std::make_unique<F>(std::move(release));
        } catch (...) {
            release();
            throw;
        }
        h3q_result r = h3q_conn_send_data_zerocopy(get(), stream_id, data.data(), data.size(),
                                                   end_stream, &released<F>, held.release());
        detail::check(r, get());
    }
    /** h3q_conn_send_push_promise(): returns the push stream id. */
    uint64_t send_push_promise(uint64_t stream_id, fields_view headers) {
        std::vector<h3q_header> c = detail::to_c(headers);
        uint64_t push_stream = 0;
        detail::check(
            h3q_conn_send_push_promise(get(), stream_id, c.data(), c.size(), &push_stream),
            get());
        return push_stream;
    }
    /** h3q_conn_send_datagram(). */
    void send_datagram(uint64_t stream_id, bytes_view data) {
        detail::check(h3q_conn_send_datagram(get(), stream_id, data.data(), data.size()), get());
    }
    /** h3q_conn_create_webtransport_stream(): returns the new stream id. */
    uint64_t create_webtransport_stream(uint64_t session_id, bool unidirectional) {
        uint64_t id = 0;
        detail::check(
            h3q_conn_create_webtransport_stream(get(), session_id, unidirectional, &id), get());
        return id;
    }
    /** h3q_conn_received_setting(): nothing if the peer did not send `id` (yet). */
    std::optional<uint64_t> received_setting(uint64_t id) {
        uint64_t value = 0;
        if (detail::check(h3q_conn_received_setting(get(), id, &value), get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return value;
    }
    /** h3q_conn_sent_setting(): nothing if we did not send `id`. */
    std::optional<uint64_t> sent_setting(uint64_t id) {
        uint64_t value = 0;
        if (detail::check(h3q_conn_sent_setting(get(), id, &value), get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return value;
    }
    /** h3q_conn_shutdown_notice(). */
    void shutdown_notice() { detail::check(h3q_conn_shutdown_notice(get()), get()); }
    /** h3q_conn_shutdown(). */
    void shutdown() { detail::check(h3q_conn_shutdown(get()), get()); }
    /** h3q_conn_active_requests(). */
    size_t active_requests() {
        size_t count = 0;
        detail::check(h3q_conn_active_requests(get(), &count), get());
        return count;
    }
    /** h3q_conn_reset_stream(). */
    void reset_stream(uint64_t stream_id, uint64_t app_error_code) {
        detail::check(h3q_conn_reset_stream(get(), stream_id, app_error_code), get());
    }
    /** h3q_conn_stop_sending(). */
    void stop_sending(uint64_t stream_id, uint64_t app_error_code) {
        detail::check(h3q_conn_stop_sending(get(), stream_id, app_error_code), get());
    }
    /** h3q_conn_cancel_push(). */
    void cancel_push(uint64_t push_id) { detail::check(h3q_conn_cancel_push(get(), push_id), get()); }
    /** h3q_conn_send_origin(). */
    void send_origin(std::initializer_list<std::string_view> origins) {
        detail::c_strings list(origins);
        detail::check(h3q_conn_send_origin(get(), list.data(), list.size()), get());
    }
    /** h3q_conn_get_priority(): nothing for a stream h3q does not track. */
    std::optional<h3q_priority> priority(uint64_t stream_id) {
        h3q_priority p{};
        if (detail::check(h3q_conn_get_priority(get(), stream_id, &p), get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return p;
    }
    /** h3q_conn_set_priority(). */
    void set_priority(uint64_t stream_id, h3q_priority priority) {
        detail::check(h3q_conn_set_priority(get(), stream_id, &priority), get());
    }
    /** h3q_conn_send_priority_update(). */
    void send_priority_update(uint64_t stream_id, h3q_priority priority) {
        detail::check(h3q_conn_send_priority_update(get(), stream_id, &priority), get());
    }

private:
    template <class F> struct sink {
        F *on_event;
        std::exception_ptr failure;
        static void deliver(void *self, const h3q_event *ev) noexcept {
            sink *s = static_cast<sink *>(self);
            try {
                (*s->on_event)(event_view(*ev));
            } catch (...) {
                if (!s->failure) s->failure = std::current_exception();
            }
        }
    };
    template <class F> static void released(void *ctx) noexcept {
        std::unique_ptr<F> release(static_cast<F *>(ctx));
        (*release)();
    }

    using owner_type = detail::owner<h3q_conn, h3q_conn_free>;
    owner_type h_;
};

/** h3q_priority_parse(): the priority a `priority` header field value asks for. */
inline h3q_priority parse_priority(std::string_view value) {
    h3q_priority p{};
    bytes_view v(value);
    detail::check(h3q_priority_parse(v.data(), v.size(), &p));
    return p;
}

} // namespace h3q

/** @} */

#endif /* H3Q_HTTP3_HPP */
