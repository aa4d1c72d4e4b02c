/** @file h3q/core.hpp
 * The C++ layer's foundations (part of h3q.hpp): h3q::error, h3q::result and
 * h3q::attempt(), the borrowed h3q::bytes_view and h3q::field_view, the owned h3q::field,
 * and the internals every handle class uses.
 */
#ifndef H3Q_CORE_HPP
#define H3Q_CORE_HPP

#include "../h3q.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
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

/** @addtogroup cpp
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

} // namespace h3q

/** @} */

#endif /* H3Q_CORE_HPP */
