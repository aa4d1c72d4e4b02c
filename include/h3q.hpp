/** @file h3q.hpp
 * h3q.hpp: a header-only C++17 layer over h3q.h (see the group "C++ layer").
 *
 * Written by hand (unlike h3q.h, which cbindgen generates); it adds no behaviour of its own,
 * only C++ ownership, errors and callbacks around the C API, so h3q.h stays the manual of
 * what every call does. Include it instead of h3q.h and link h3q as for C; it needs C++17
 * with exceptions.
 */
#ifndef H3Q_HPP
#define H3Q_HPP

#include "h3q.h"

#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#if __cplusplus >= 202002L
#include <span>
#endif

/**
 * @defgroup cpp C++ layer (h3q.hpp)
 *
 * Owning handles, exceptions and lambdas over the C API, for C++17 and later.
 *
 * - **Ownership.** h3q::config, h3q::endpoint, h3q::quic_connection, h3q::h3_connection,
 *   h3q::qpack_encoder and h3q::qpack_decoder each own one C handle and free it with the
 *   matching `h3q_*_free()` when destroyed. They move and never copy; a moved-from object
 *   holds no handle, and every call on it throws h3q::error with `H3Q_ERR_NULL` (queries
 *   that cannot fail give the C API's answer for NULL). `get()` lends the C handle for
 *   calls this layer does not wrap; `release()` gives its ownership to the caller.
 * - **Errors.** A call whose C function returns an error (any negative h3q_result) throws
 *   h3q::error, which carries the code, its name and the handle's last error message;
 *   h3q::attempt() turns it into an h3q::result to test instead.
 *   Statuses (`H3Q_DONE`, `H3Q_BLOCKED`) are not errors: they come back as an empty
 *   `std::optional`, a `false` or the returned h3q_result, as each function says.
 * - **Borrowed and copied data.** Bytes and fields go in as h3q::bytes_view and
 *   h3q::field_view, read during the call only. What h3q lends out (events, encoded
 *   sections, transmits) comes as a view valid until the next call on the same handle,
 *   as h3q.h says for the C function; h3q::event and h3q::field are owning copies.
 * - **Callbacks.** h3q::h3_connection::handle_event() takes any callable; an exception it
 *   throws is held while h3q finishes the call (it must not cross the C ABI) and thrown
 *   again once h3q has returned. h3q::transport turns a C++ class into an h3q_transport
 *   table.
 * - **Threads.** As in C: a handle is not thread-safe but may move between threads.
 *
 * @{
 */

/** The C++ layer over h3q.h. */
namespace h3q {

/**
 * The exception every failing call of this layer throws: the h3q_result the C function
 * returned, the library's static description of it, and the handle's last error message
 * (copied, so the exception outlives the handle).
 */
class error : public std::runtime_error {
public:
    /** An error with `code` and the message `detail` (NULL: none). */
    error(h3q_result code, const char *detail)
        : std::runtime_error(compose(code, detail)), code_(code),
          detail_(detail != nullptr ? detail : "") {}

    /** The h3q_result the C function returned (negative). */
    h3q_result code() const noexcept { return code_; }

    /** The code's name (`"H3Q_ERR_NULL"` for H3Q_ERR_NULL): the part of h3q_result_str()
     * before its colon. Points into the library's static string: valid for the life of the process. */
    std::string_view name() const noexcept {
        std::string_view text = h3q_result_str(code_);
        return text.substr(0, text.find(':'));
    }

    /** h3q_result_str() of the code: its name and a short description (static). */
    const char *description() const noexcept { return h3q_result_str(code_); }

    /** The handle's last error message at the time of the failure; empty if it had none. */
    const std::string &detail() const noexcept { return detail_; }

    /** The call was refused and did nothing (`H3Q_IS_REFUSAL`): the handle is unharmed. */
    bool is_refusal() const noexcept { return H3Q_IS_REFUSAL(code_); }

    /** The connection is closed or the handle poisoned (`H3Q_IS_FATAL`). */
    bool is_fatal() const noexcept { return H3Q_IS_FATAL(code_); }

private:
    static std::string compose(h3q_result code, const char *detail) {
        std::string text = h3q_result_str(code);
        if (detail != nullptr && *detail != '\0') {
            text += " (";
            text += detail;
            text += ')';
        }
        return text;
    }

    h3q_result code_;
    std::string detail_;
};

/**
 * A borrowed run of bytes: a pointer and a length, never owning. Made from a
 * `std::string_view`, a `std::string`, a C string, a `std::vector<uint8_t>`, a
 * `std::array<uint8_t, N>`, a pointer and a size, or (C++20) a `std::span`. The bytes must
 * stay valid while the view is used; every call taking one reads it during the call only.
 */
class bytes_view {
public:
    /** No bytes. */
    bytes_view() noexcept = default;
    /** `size` bytes at `data` (NULL only with size 0). */
    bytes_view(const uint8_t *data, size_t size) noexcept : data_(data), size_(size) {}
    /** `size` bytes at `data`, of any type. */
    bytes_view(const void *data, size_t size) noexcept
        : data_(static_cast<const uint8_t *>(data)), size_(size) {}
    /** The characters of `text`. */
    bytes_view(std::string_view text) noexcept
        : data_(reinterpret_cast<const uint8_t *>(text.data())), size_(text.size()) {}
    /** The characters of `text`. */
    bytes_view(const std::string &text) noexcept : bytes_view(std::string_view(text)) {}
    /** The characters of a NUL-terminated string, without the NUL. */
    bytes_view(const char *text) noexcept : bytes_view(std::string_view(text)) {}
    /** The bytes of `bytes`. */
    bytes_view(const std::vector<uint8_t> &bytes) noexcept
        : data_(bytes.data()), size_(bytes.size()) {}
    /** The bytes of `bytes`. */
    template <size_t N>
    bytes_view(const std::array<uint8_t, N> &bytes) noexcept
        : data_(bytes.data()), size_(N) {}
#if __cplusplus >= 202002L
    /** The bytes of `bytes` (C++20). */
    bytes_view(std::span<const uint8_t> bytes) noexcept
        : data_(bytes.data()), size_(bytes.size()) {}
#endif

    /** The first byte (NULL for an empty default view). */
    const uint8_t *data() const noexcept { return data_; }
    /** How many bytes. */
    size_t size() const noexcept { return size_; }
    /** No bytes. */
    bool empty() const noexcept { return size_ == 0; }
    /** Iteration: the first byte. */
    const uint8_t *begin() const noexcept { return data_; }
    /** Iteration: past the last byte. */
    const uint8_t *end() const noexcept { return data_ + size_; }
    /** The same bytes as characters (borrowed). */
    std::string_view as_string_view() const noexcept {
        return size_ == 0 ? std::string_view()
                          : std::string_view(reinterpret_cast<const char *>(data_), size_);
    }
    /** A copy of the bytes as a `std::string`. */
    std::string to_string() const { return std::string(as_string_view()); }
    /** A copy of the bytes. */
    std::vector<uint8_t> to_vector() const { return std::vector<uint8_t>(begin(), end()); }

private:
    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
};

/** One header field line, borrowed: what calls that send fields take. */
struct field_view {
    std::string_view name;  /**< The field name (lower case for HTTP/3). */
    std::string_view value; /**< The field value. */
};

/** One header field line, owned: what copied events and decoded sections hold. */
struct field {
    std::string name;  /**< The field name. */
    std::string value; /**< The field value. */
};

/**
 * A borrowed list of h3q::field_view: from a braced list (`{{":method", "GET"}, ...}`, which
 * lives until the end of the full expression) or a `std::vector<field_view>`.
 */
class fields_view {
public:
    /** The fields of a braced list. */
    fields_view(std::initializer_list<field_view> fields) noexcept : size_(fields.size()) {
        // The list's array lives until the end of the full expression that made it, which
        // covers the call this view is an argument of.
        data_ = fields.begin();
    }
    /** The fields of a vector. */
    fields_view(const std::vector<field_view> &fields) noexcept
        : data_(fields.data()), size_(fields.size()) {}

    /** The first field. */
    const field_view *begin() const noexcept { return data_; }
    /** Past the last field. */
    const field_view *end() const noexcept { return data_ + size_; }
    /** How many fields. */
    size_t size() const noexcept { return size_; }

private:
    const field_view *data_ = nullptr;
    size_t size_ = 0;
};

/** Internals of the C++ layer; not part of its API. */
namespace detail {

inline const char *last_error_of(const h3q_config *h) { return h3q_config_last_error(h); }
inline const char *last_error_of(const h3q_endpoint *h) { return h3q_endpoint_last_error(h); }
inline const char *last_error_of(const h3q_quic_conn *h) { return h3q_quic_conn_last_error(h); }
inline const char *last_error_of(const h3q_conn *h) { return h3q_conn_last_error(h); }
inline const char *last_error_of(const h3q_qpack_encoder *h) {
    return h3q_qpack_encoder_last_error(h);
}
inline const char *last_error_of(const h3q_qpack_decoder *h) {
    return h3q_qpack_decoder_last_error(h);
}

/* Throws h3q::error for a negative result, with the handle's message (or the thread's,
 * for a NULL handle); passes statuses through. */
template <class T> h3q_result check(h3q_result result, const T *handle) {
    if (result < 0) {
        const char *detail = handle != nullptr ? last_error_of(handle) : nullptr;
        throw error(result, detail != nullptr ? detail : h3q_last_error());
    }
    return result;
}

/* For constructors and calls without a handle: the thread's last error. */
inline h3q_result check(h3q_result result) {
    if (result < 0) throw error(result, h3q_last_error());
    return result;
}

/* A move-only owner of one C handle, freed with Free. */
template <class T, void (*Free)(T *)> class owner {
public:
    owner() noexcept = default;
    explicit owner(T *handle) noexcept : handle_(handle) {}
    owner(owner &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    owner &operator=(owner &&other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    owner(const owner &) = delete;
    owner &operator=(const owner &) = delete;
    ~owner() { reset(); }

    T *get() const noexcept { return handle_; }
    T *release() noexcept { return std::exchange(handle_, nullptr); }
    void reset() noexcept { Free(std::exchange(handle_, nullptr)); }

private:
    T *handle_ = nullptr;
};

inline h3q_header to_c(const field_view &f) noexcept {
    h3q_header h;
    h.name = reinterpret_cast<const uint8_t *>(f.name.data());
    h.name_len = f.name.size();
    h.value = reinterpret_cast<const uint8_t *>(f.value.data());
    h.value_len = f.value.size();
    return h;
}

inline std::vector<h3q_header> to_c(fields_view fields) {
    std::vector<h3q_header> out;
    out.reserve(fields.size());
    for (const field_view &f : fields) out.push_back(to_c(f));
    return out;
}

inline std::string_view view_of(const uint8_t *data, size_t len) noexcept {
    return len == 0 ? std::string_view()
                    : std::string_view(reinterpret_cast<const char *>(data), len);
}

inline std::vector<field> copy_fields(const h3q_header *headers, size_t count) {
    std::vector<field> out;
    out.reserve(count);
    for (size_t i = 0; i < count; i++) {
        out.push_back(field{std::string(view_of(headers[i].name, headers[i].name_len)),
                            std::string(view_of(headers[i].value, headers[i].value_len))});
    }
    return out;
}

/* NUL-terminated copies of strings, and the array of their pointers. */
class c_strings {
public:
    explicit c_strings(std::initializer_list<std::string_view> items) {
        storage_.reserve(items.size());
        for (std::string_view s : items) storage_.emplace_back(s);
        for (const std::string &s : storage_) pointers_.push_back(s.c_str());
    }
    const char *const *data() const noexcept { return pointers_.data(); }
    size_t size() const noexcept { return pointers_.size(); }

private:
    std::vector<std::string> storage_;
    std::vector<const char *> pointers_;
};

} // namespace detail

/**
 * A value or the h3q::error that stopped it, for code that would rather test than catch:
 * what h3q::attempt() returns. `T` is a value type or `void`.
 */
template <class T> class result {
    static_assert(!std::is_reference_v<T>, "h3q::result holds values, not references");

public:
    /** A success holding `value`. */
    result(T value) : value_(std::move(value)) {}
    /** A failure. */
    result(error failure) : failure_(std::move(failure)) {}

    /** The call succeeded. */
    bool ok() const noexcept { return value_.has_value(); }
    /** The call succeeded. */
    explicit operator bool() const noexcept { return ok(); }
    /** `H3Q_OK`, or the failure's code. */
    h3q_result code() const noexcept { return ok() ? H3Q_OK : failure_->code(); }
    /** The failure, or NULL after a success; valid as long as this result. */
    const error *failure() const noexcept { return failure_ ? &*failure_ : nullptr; }
    /** The value; throws the failure if there is none. */
    T &value() & {
        if (!ok()) throw *failure_;
        return *value_;
    }
    /** The value, moved out; throws the failure if there is none. */
    T value() && {
        if (!ok()) throw *failure_;
        return std::move(*value_);
    }

private:
    std::optional<T> value_;
    std::optional<error> failure_;
};

/** A success or the h3q::error that stopped it: h3q::attempt() of a call without a value. */
template <> class result<void> {
public:
    /** A success. */
    result() noexcept = default;
    /** A failure. */
    result(error failure) : failure_(std::move(failure)) {}

    /** The call succeeded. */
    bool ok() const noexcept { return !failure_.has_value(); }
    /** The call succeeded. */
    explicit operator bool() const noexcept { return ok(); }
    /** `H3Q_OK`, or the failure's code. */
    h3q_result code() const noexcept { return ok() ? H3Q_OK : failure_->code(); }
    /** The failure, or NULL after a success; valid as long as this result. */
    const error *failure() const noexcept { return failure_ ? &*failure_ : nullptr; }
    /** Throws the failure, if any. */
    void value() const {
        if (!ok()) throw *failure_;
    }

private:
    std::optional<error> failure_;
};

/**
 * Runs `call` (any callable without arguments, typically a lambda around calls of this
 * layer) and returns its value, or the h3q::error it threw, as an h3q::result; other
 * exceptions pass through. A call returning a reference (the config setters) is wrapped
 * in a lambda returning nothing:
 * `h3q::attempt([&] { cfg.set_max_streams(100, 3); })`.
 */
template <class F> auto attempt(F &&call) -> result<std::invoke_result_t<F>> {
    using value_type = std::invoke_result_t<F>;
    static_assert(!std::is_reference_v<value_type>,
                  "h3q::attempt: wrap a call returning a reference in a lambda returning void");
    try {
        if constexpr (std::is_void_v<value_type>) {
            std::forward<F>(call)();
            return result<void>();
        } else {
            return result<value_type>(std::forward<F>(call)());
        }
    } catch (const error &e) {
        return result<value_type>(e);
    }
}

/** The library version as a static string (h3q_version()). */
inline const char *version() noexcept { return h3q_version(); }

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

/** Which side of a connection an endpoint is. */
enum class role {
    client, /**< Opens connections (h3q::endpoint::connect()). */
    server, /**< Accepts them (h3q::endpoint::accept()). */
};

/**
 * The configuration of a QUIC endpoint (h3q_config). h3q::endpoint copies what it needs, so
 * a config may be destroyed or reused once the endpoint exists. The setters return the
 * config, for chaining, and throw h3q::error where the C function fails.
 */
class config {
public:
    /** A configuration for `r` with the defaults (h3q_config_new()). */
    explicit config(role r) {
        h3q_config *raw = nullptr;
        detail::check(h3q_config_new(r == role::server, &raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit config(h3q_config *raw) noexcept : h_(raw) {}

    /** A server configuration. */
    static config server() { return config(role::server); }
    /** A client configuration. */
    static config client() { return config(role::client); }

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_config *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_config_free(). */
    h3q_config *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_config_last_error(): borrowed, valid until the next failing call; may be NULL. */
    const char *last_error() const noexcept { return h3q_config_last_error(get()); }

    /** h3q_config_set_certificate_chain_pem(). */
    config &set_certificate_chain_pem(bytes_view chain_pem, bytes_view key_pem) {
        detail::check(h3q_config_set_certificate_chain_pem(get(), chain_pem.data(),
                                                           chain_pem.size(), key_pem.data(),
                                                           key_pem.size()),
                      get());
        return *this;
    }
    /** h3q_config_load_certificate_chain(). */
    config &load_certificate_chain(const std::string &chain_path, const std::string &key_path) {
        detail::check(
            h3q_config_load_certificate_chain(get(), chain_path.c_str(), key_path.c_str()), get());
        return *this;
    }
    /** h3q_config_generate_self_signed(): returns the certificate's SHA-256 fingerprint. */
    std::array<uint8_t, 32> generate_self_signed(const std::string &host) {
        std::array<uint8_t, 32> fingerprint{};
        detail::check(h3q_config_generate_self_signed(get(), host.c_str(), fingerprint.data()),
                      get());
        return fingerprint;
    }
    /** h3q_config_certificate_chain_pem(): the chain as PEM; empty when there is none. */
    std::string certificate_chain_pem() const {
        size_t len = 0;
        h3q_result r = h3q_config_certificate_chain_pem(get(), nullptr, 0, &len);
        if (r == H3Q_DONE) return std::string();
        if (r != H3Q_ERR_BUFFER_TOO_SMALL) detail::check(r, get());
        std::string pem(len, '\0');
        detail::check(h3q_config_certificate_chain_pem(
                          get(), reinterpret_cast<uint8_t *>(&pem[0]), pem.size(), &len),
                      get());
        pem.resize(len);
        return pem;
    }
    /** h3q_config_add_ca_pem(). */
    config &add_ca_pem(bytes_view pem) {
        detail::check(h3q_config_add_ca_pem(get(), pem.data(), pem.size()), get());
        return *this;
    }
    /** h3q_config_load_ca_file(). */
    config &load_ca_file(const std::string &path) {
        detail::check(h3q_config_load_ca_file(get(), path.c_str()), get());
        return *this;
    }
    /** h3q_config_set_verify_peer(). */
    config &set_verify_peer(bool verify) {
        detail::check(h3q_config_set_verify_peer(get(), verify), get());
        return *this;
    }
    /** h3q_config_set_alpn(): the protocols in preference order. */
    config &set_alpn(std::initializer_list<std::string_view> protocols) {
        detail::c_strings list(protocols);
        detail::check(h3q_config_set_alpn(get(), list.data(), list.size()), get());
        return *this;
    }
    /** h3q_config_set_idle_timeout_ms(). */
    config &set_idle_timeout_ms(uint64_t timeout_ms) {
        detail::check(h3q_config_set_idle_timeout_ms(get(), timeout_ms), get());
        return *this;
    }
    /** h3q_config_set_max_streams(). */
    config &set_max_streams(uint64_t bidi, uint64_t uni) {
        detail::check(h3q_config_set_max_streams(get(), bidi, uni), get());
        return *this;
    }
    /** h3q_config_set_stream_receive_window(). */
    config &set_stream_receive_window(uint64_t bytes) {
        detail::check(h3q_config_set_stream_receive_window(get(), bytes), get());
        return *this;
    }
    /** h3q_config_set_send_window(). */
    config &set_send_window(uint64_t bytes) {
        detail::check(h3q_config_set_send_window(get(), bytes), get());
        return *this;
    }
    /** h3q_config_set_loss_detection(). */
    config &set_loss_detection(uint32_t packet_threshold, double time_threshold) {
        detail::check(h3q_config_set_loss_detection(get(), packet_threshold, time_threshold),
                      get());
        return *this;
    }
    /** h3q_config_set_congestion_control(). */
    config &set_congestion_control(h3q_congestion_control algorithm) {
        detail::check(
            h3q_config_set_congestion_control(get(), static_cast<uint32_t>(algorithm)), get());
        return *this;
    }
    /** h3q_config_set_initial_window(). */
    config &set_initial_window(uint64_t bytes) {
        detail::check(h3q_config_set_initial_window(get(), bytes), get());
        return *this;
    }
    /** h3q_config_set_max_datagram_frame_size(). */
    config &set_max_datagram_frame_size(uint64_t size) {
        detail::check(h3q_config_set_max_datagram_frame_size(get(), size), get());
        return *this;
    }
    /** h3q_config_set_key_log_file(). */
    config &set_key_log_file(const std::string &path) {
        detail::check(h3q_config_set_key_log_file(get(), path.c_str()), get());
        return *this;
    }
    /** h3q_config_set_max_gso_segments(). */
    config &set_max_gso_segments(size_t segments) {
        detail::check(h3q_config_set_max_gso_segments(get(), segments), get());
        return *this;
    }
    /** h3q_config_set_mtu_discovery(). */
    config &set_mtu_discovery(bool enabled) {
        detail::check(h3q_config_set_mtu_discovery(get(), enabled), get());
        return *this;
    }

private:
    using owner_type = detail::owner<h3q_config, h3q_config_free>;
    owner_type h_;
};

/**
 * One QUIC connection of the built-in layer (h3q_quic_conn), owned. Made by
 * h3q::endpoint::connect() and h3q::endpoint::accept(). Destroying it frees the handle but
 * does not close the connection (close() first for a graceful close). It may outlive its
 * endpoint and the h3q::h3_connection over it.
 */
class quic_connection {
public:
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit quic_connection(h3q_quic_conn *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_quic_conn *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_quic_conn_free(). */
    h3q_quic_conn *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_quic_conn_last_error(): borrowed, valid until the next failing call; may be
     * NULL. */
    const char *last_error() const noexcept { return h3q_quic_conn_last_error(get()); }

    /**
     * h3q_quic_conn_next_event(): the next QUIC event, or nothing when the queue is empty.
     * Its `data` and `reason` point into the handle: valid until the next call on it.
     */
    std::optional<h3q_quic_event> next_event() {
        h3q_quic_event ev{};
        if (detail::check(h3q_quic_conn_next_event(get(), &ev), get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return ev;
    }
    /** h3q_quic_conn_set_user_data(): h3q keeps the pointer and never reads or frees it. */
    void set_user_data(void *user_data) {
        detail::check(h3q_quic_conn_set_user_data(get(), user_data), get());
    }
    /** h3q_quic_conn_user_data(). */
    void *user_data() const noexcept { return h3q_quic_conn_user_data(get()); }
    /** h3q_quic_conn_send_stream_data(). */
    void send_stream_data(uint64_t stream_id, bytes_view data, bool end_stream) {
        detail::check(
            h3q_quic_conn_send_stream_data(get(), stream_id, data.data(), data.size(), end_stream),
            get());
    }
    /** h3q_quic_conn_get_next_available_stream_id(). */
    uint64_t next_stream_id(bool unidirectional = false) {
        uint64_t id = 0;
        detail::check(h3q_quic_conn_get_next_available_stream_id(get(), unidirectional, &id),
                      get());
        return id;
    }
    /** h3q_quic_conn_stream_send_buffered(). */
    uint64_t stream_send_buffered(uint64_t stream_id) {
        uint64_t bytes = 0;
        detail::check(h3q_quic_conn_stream_send_buffered(get(), stream_id, &bytes), get());
        return bytes;
    }
    /** h3q_quic_conn_unacknowledged_streams(). */
    size_t unacknowledged_streams() {
        size_t count = 0;
        detail::check(h3q_quic_conn_unacknowledged_streams(get(), &count), get());
        return count;
    }
    /** h3q_quic_conn_reset_stream(). */
    void reset_stream(uint64_t stream_id, uint64_t error_code) {
        detail::check(h3q_quic_conn_reset_stream(get(), stream_id, error_code), get());
    }
    /** h3q_quic_conn_stop_stream(). */
    void stop_stream(uint64_t stream_id, uint64_t error_code) {
        detail::check(h3q_quic_conn_stop_stream(get(), stream_id, error_code), get());
    }
    /** h3q_quic_conn_send_datagram_frame(). */
    void send_datagram_frame(bytes_view data) {
        detail::check(h3q_quic_conn_send_datagram_frame(get(), data.data(), data.size()), get());
    }
    /** h3q_quic_conn_close(), as in `close(H3Q_H3_NO_ERROR, "bye")`. */
    void close(uint64_t error_code, std::string_view reason = {}) {
        bytes_view r(reason);
        detail::check(h3q_quic_conn_close(get(), error_code, r.data(), r.size()), get());
    }
    /** h3q_quic_conn_is_established() (false when empty). */
    bool is_established() const noexcept { return h3q_quic_conn_is_established(get()); }
    /** h3q_quic_conn_is_closed() (true when empty). */
    bool is_closed() const noexcept { return h3q_quic_conn_is_closed(get()); }
    /** h3q_quic_conn_is_drained() (true when empty). */
    bool is_drained() const noexcept { return h3q_quic_conn_is_drained(get()); }
    /** h3q_quic_conn_alpn(): a copy of the negotiated ALPN; empty before the handshake. */
    std::string alpn() {
        const uint8_t *data = nullptr;
        size_t len = 0;
        if (detail::check(h3q_quic_conn_alpn(get(), &data, &len), get()) == H3Q_DONE) return {};
        return std::string(detail::view_of(data, len));
    }
    /** h3q_quic_conn_remote_address(): the address and its length. */
    std::pair<sockaddr_storage, socklen_t> remote_address() {
        std::pair<sockaddr_storage, socklen_t> out{};
        detail::check(h3q_quic_conn_remote_address(get(), &out.first, &out.second), get());
        return out;
    }
    /** h3q_quic_conn_stats(). */
    h3q_quic_stats stats() {
        h3q_quic_stats s{};
        detail::check(h3q_quic_conn_stats(get(), &s), get());
        return s;
    }

private:
    detail::owner<h3q_quic_conn, h3q_quic_conn_free> h_;
};

/** A UDP payload to send, from h3q::endpoint::poll_transmit(). */
struct transmit {
    bytes_view payload;           /**< In the caller's buffer: valid while it is. */
    sockaddr_storage destination; /**< Where to send it. */
    socklen_t destination_len;    /**< The length of `destination`. */
    size_t segment_size;          /**< The datagram size (UDP_SEGMENT for a GSO batch). */

    /** `destination` as the `sockaddr` that `sendto()` takes. */
    const sockaddr *address() const noexcept {
        return reinterpret_cast<const sockaddr *>(&destination);
    }
};

/**
 * A QUIC endpoint for one UDP socket (h3q_endpoint), owned. The connections it makes are
 * owned by their h3q::quic_connection objects and may outlive it.
 */
class endpoint {
public:
    /** h3q_endpoint_new(): reads `cfg` during the call only. */
    explicit endpoint(const config &cfg) {
        h3q_endpoint *raw = nullptr;
        detail::check(h3q_endpoint_new(cfg.get(), &raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit endpoint(h3q_endpoint *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_endpoint *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_endpoint_free(). */
    h3q_endpoint *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_endpoint_last_error(): borrowed, valid until the next failing call; may be NULL. */
    const char *last_error() const noexcept { return h3q_endpoint_last_error(get()); }

    /** h3q_endpoint_connect(): a client connection to `remote`, verified for
     * `server_name`. */
    quic_connection connect(uint64_t now_ns, const sockaddr *remote, socklen_t remote_len,
                            const std::string &server_name) {
        h3q_quic_conn *raw = nullptr;
        detail::check(
            h3q_endpoint_connect(get(), now_ns, remote, remote_len, server_name.c_str(), &raw),
            get());
        return quic_connection(raw);
    }
    /** h3q_endpoint_connect() to an IPv4 address. */
    quic_connection connect(uint64_t now_ns, const sockaddr_in &remote,
                            const std::string &server_name) {
        return connect(now_ns, reinterpret_cast<const sockaddr *>(&remote), sizeof remote,
                       server_name);
    }
    /** h3q_endpoint_connect() to an IPv6 address. */
    quic_connection connect(uint64_t now_ns, const sockaddr_in6 &remote,
                            const std::string &server_name) {
        return connect(now_ns, reinterpret_cast<const sockaddr *>(&remote), sizeof remote,
                       server_name);
    }
    /** h3q_endpoint_receive(). */
    void receive(uint64_t now_ns, const sockaddr *from, socklen_t from_len, bytes_view data) {
        detail::check(
            h3q_endpoint_receive(get(), now_ns, from, from_len, data.data(), data.size()), get());
    }
    /** h3q_endpoint_receive_segments(): a UDP GRO batch. */
    void receive_segments(uint64_t now_ns, const sockaddr *from, socklen_t from_len,
                          bytes_view data, size_t segment_size) {
        detail::check(h3q_endpoint_receive_segments(get(), now_ns, from, from_len, data.data(),
                                                    data.size(), segment_size),
                      get());
    }
    /** h3q_endpoint_handle_timeout(). */
    void handle_timeout(uint64_t now_ns) {
        detail::check(h3q_endpoint_handle_timeout(get(), now_ns), get());
    }
    /** h3q_endpoint_accept(): the next new server connection, or nothing. */
    std::optional<quic_connection> accept() {
        h3q_quic_conn *raw = nullptr;
        if (detail::check(h3q_endpoint_accept(get(), &raw), get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return quic_connection(raw);
    }
    /**
     * h3q_endpoint_next_ready(): the next connection with events waiting, or NULL. The
     * handle stays owned by its h3q::quic_connection; find that object (or your state) with
     * h3q_quic_conn_user_data(), set through quic_connection::set_user_data().
     */
    h3q_quic_conn *next_ready() {
        h3q_quic_conn *raw = nullptr;
        if (detail::check(h3q_endpoint_next_ready(get(), &raw), get()) == H3Q_DONE) {
            return nullptr;
        }
        return raw;
    }
    /**
     * h3q_endpoint_poll_transmit(): writes the next UDP payload into `buf` (`cap` bytes, at
     * least 1472) and says where to send it; nothing when none is waiting.
     */
    std::optional<transmit> poll_transmit(uint64_t now_ns, uint8_t *buf, size_t cap) {
        transmit t{};
        size_t len = 0;
        if (detail::check(h3q_endpoint_poll_transmit(get(), now_ns, buf, cap, &len,
                                                     &t.destination, &t.destination_len,
                                                     &t.segment_size),
                          get()) == H3Q_DONE) {
            return std::nullopt;
        }
        t.payload = bytes_view(buf, len);
        return t;
    }
    /** h3q_endpoint_next_timeout(): `UINT64_MAX` when no timer is needed. */
    uint64_t next_timeout() const noexcept { return h3q_endpoint_next_timeout(get()); }
    /** h3q_endpoint_certificate_fingerprint(): nothing for a client. */
    std::optional<std::array<uint8_t, 32>> certificate_fingerprint() {
        std::array<uint8_t, 32> out{};
        if (detail::check(h3q_endpoint_certificate_fingerprint(get(), out.data()), get()) ==
            H3Q_DONE) {
            return std::nullopt;
        }
        return out;
    }

private:
    using owner_type = detail::owner<h3q_endpoint, h3q_endpoint_free>;
    owner_type h_;
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

/**
 * A QPACK encoder on its own (h3q_qpack_encoder), owned. The views it returns point into
 * the encoder and are valid until the next call on it.
 */
class qpack_encoder {
public:
    /** h3q_qpack_encoder_new(). */
    qpack_encoder() {
        h3q_qpack_encoder *raw = nullptr;
        detail::check(h3q_qpack_encoder_new(&raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit qpack_encoder(h3q_qpack_encoder *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_qpack_encoder *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_qpack_encoder_free(). */
    h3q_qpack_encoder *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_qpack_encoder_last_error(): borrowed, valid until the next failing call. */
    const char *last_error() const noexcept { return h3q_qpack_encoder_last_error(get()); }

    /** h3q_qpack_encoder_apply_settings(). */
    void apply_settings(uint64_t max_table_capacity, uint64_t blocked_streams) {
        detail::check(
            h3q_qpack_encoder_apply_settings(get(), max_table_capacity, blocked_streams), get());
    }
    /** h3q_qpack_encoder_encode(): the encoded section, borrowed until the next call. */
    bytes_view encode(uint64_t stream_id, fields_view headers) {
        std::vector<h3q_header> c = detail::to_c(headers);
        const uint8_t *section = nullptr;
        size_t len = 0;
        detail::check(
            h3q_qpack_encoder_encode(get(), stream_id, c.data(), c.size(), &section, &len), get());
        return bytes_view(section, len);
    }
    /** h3q_qpack_encoder_take_encoder_stream(): borrowed until the next call. */
    bytes_view take_encoder_stream() {
        const uint8_t *data = nullptr;
        size_t len = 0;
        detail::check(h3q_qpack_encoder_take_encoder_stream(get(), &data, &len), get());
        return bytes_view(data, len);
    }
    /** h3q_qpack_encoder_feed_decoder(). */
    void feed_decoder(bytes_view data) {
        detail::check(h3q_qpack_encoder_feed_decoder(get(), data.data(), data.size()), get());
    }
    /** h3q_qpack_encoder_stream_cancelled(). */
    void stream_cancelled(uint64_t stream_id) {
        detail::check(h3q_qpack_encoder_stream_cancelled(get(), stream_id), get());
    }

private:
    using owner_type = detail::owner<h3q_qpack_encoder, h3q_qpack_encoder_free>;
    owner_type h_;
};

/**
 * A QPACK decoder on its own (h3q_qpack_decoder), owned. Decoded fields are returned as
 * copies; the stream bytes it returns are views valid until the next call on it.
 */
class qpack_decoder {
public:
    /** h3q_qpack_decoder_new(). */
    qpack_decoder(uint64_t max_table_capacity, uint64_t max_blocked_streams) {
        h3q_qpack_decoder *raw = nullptr;
        detail::check(h3q_qpack_decoder_new(max_table_capacity, max_blocked_streams, &raw));
        h_ = owner_type(raw);
    }
    /** Takes ownership of `raw` (NULL: an empty object). */
    explicit qpack_decoder(h3q_qpack_decoder *raw) noexcept : h_(raw) {}

    /** The C handle, still owned by this object (NULL once moved from). */
    h3q_qpack_decoder *get() const noexcept { return h_.get(); }
    /** Gives up the C handle: the caller frees it with h3q_qpack_decoder_free(). */
    h3q_qpack_decoder *release() noexcept { return h_.release(); }
    /** Holds a handle. */
    explicit operator bool() const noexcept { return h_.get() != nullptr; }
    /** h3q_qpack_decoder_last_error(): borrowed, valid until the next failing call. */
    const char *last_error() const noexcept { return h3q_qpack_decoder_last_error(get()); }

    /** h3q_qpack_decoder_set_max_field_section_size(). */
    void set_max_field_section_size(uint64_t limit) {
        detail::check(h3q_qpack_decoder_set_max_field_section_size(get(), limit), get());
    }
    /** h3q_qpack_decoder_set_dynamic_table_capacity(). */
    void set_dynamic_table_capacity(uint64_t capacity) {
        detail::check(h3q_qpack_decoder_set_dynamic_table_capacity(get(), capacity), get());
    }
    /** h3q_qpack_decoder_feed_encoder(). */
    void feed_encoder(bytes_view data) {
        detail::check(h3q_qpack_decoder_feed_encoder(get(), data.data(), data.size()), get());
    }
    /** h3q_qpack_decoder_decode(): the fields, or nothing when the section is blocked
     * (it comes out of next_unblocked() later). */
    std::optional<std::vector<field>> decode(uint64_t stream_id, bytes_view section) {
        const h3q_header *headers = nullptr;
        size_t count = 0;
        if (detail::check(h3q_qpack_decoder_decode(get(), stream_id, section.data(),
                                                   section.size(), &headers, &count),
                          get()) == H3Q_BLOCKED) {
            return std::nullopt;
        }
        return detail::copy_fields(headers, count);
    }
    /** h3q_qpack_decoder_next_unblocked(): a stream id and its fields, or nothing. */
    std::optional<std::pair<uint64_t, std::vector<field>>> next_unblocked() {
        uint64_t stream_id = 0;
        const h3q_header *headers = nullptr;
        size_t count = 0;
        if (detail::check(h3q_qpack_decoder_next_unblocked(get(), &stream_id, &headers, &count),
                          get()) == H3Q_DONE) {
            return std::nullopt;
        }
        return std::make_pair(stream_id, detail::copy_fields(headers, count));
    }
    /** h3q_qpack_decoder_cancel_stream(). */
    void cancel_stream(uint64_t stream_id) {
        detail::check(h3q_qpack_decoder_cancel_stream(get(), stream_id), get());
    }
    /** h3q_qpack_decoder_take_decoder_stream(): borrowed until the next call. */
    bytes_view take_decoder_stream() {
        const uint8_t *data = nullptr;
        size_t len = 0;
        detail::check(h3q_qpack_decoder_take_decoder_stream(get(), &data, &len), get());
        return bytes_view(data, len);
    }

private:
    using owner_type = detail::owner<h3q_qpack_decoder, h3q_qpack_decoder_free>;
    owner_type h_;
};

} // namespace h3q

/** @} */

#endif /* H3Q_HPP */
