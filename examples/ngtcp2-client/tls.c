/*
 * GnuTLS for the QUIC handshake: trust, certificate verification, ALPN "h3" and SNI.
 *
 * ngtcp2's GnuTLS helper (ngtcp2_crypto_gnutls_configure_client_session) moves the
 * handshake bytes and the secrets between GnuTLS and ngtcp2; it finds the ngtcp2_conn
 * through the session's pointer, which must be an ngtcp2_crypto_conn_ref (quic.c fills
 * it in; its user_data is the client). The session and the credentials belong to
 * client.quic.tls and are freed by tls_free() after the ngtcp2 connection.
 *
 * Verification runs in our own callback rather than GnuTLS's built-in one, so that the
 * reason (unknown issuer, wrong name, expired ...) can be printed when the handshake
 * fails: ngtcp2 only reports "TLS failed".
 */
#define _GNU_SOURCE /* getaddrinfo, ppoll (ex_clock.h) in C11 */
#include "ngclient.h"

#include "ex_log.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <arpa/inet.h>
#include <string.h>

/* TLS 1.3 only (QUIC requires it), without the middlebox-compatibility records QUIC has
 * no use for. */
static const char PRIORITIES[] =
    "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
    "+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
    "+GROUP-SECP384R1:+GROUP-SECP521R1";

static bool is_ip_literal(const char *host) {
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* GnuTLS calls this once the server's certificate chain has arrived; a non-zero return
 * ends the handshake (GnuTLS then sends the matching alert). */
static int verify_server(gnutls_session_t session) {
    ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(session);
    client *cl = ref->user_data;
    tls_session *t = &cl->quic.tls;
    if (!t->verify) return 0;
    unsigned int status = 0;
    int rv = gnutls_certificate_verify_peers3(session, t->host, &status);
    if (rv < 0) {
        snprintf(t->verify_error, sizeof t->verify_error, "%s", gnutls_strerror(rv));
        return GNUTLS_E_CERTIFICATE_ERROR;
    }
    if (status == 0) return 0;
    gnutls_datum_t text;
    if (gnutls_certificate_verification_status_print(status, gnutls_certificate_type_get(session),
                                                     &text, 0) == 0) {
        size_t n = text.size; /* GnuTLS ends its sentences with a space */
        while (n > 0 && (text.data[n - 1] == ' ' || text.data[n - 1] == '\0')) n--;
        snprintf(t->verify_error, sizeof t->verify_error, "%.*s", (int)n,
                 (const char *)text.data);
        gnutls_free(text.data);
    } else {
        snprintf(t->verify_error, sizeof t->verify_error, "status 0x%x", status);
    }
    return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

bool tls_setup(client *cl) {
    tls_session *t = &cl->quic.tls;
    t->host = cl->host;
    t->verify = !cl->opt->insecure;
    int rv = gnutls_certificate_allocate_credentials(&t->cred);
    if (rv < 0) {
        ex_warn("GnuTLS credentials: %s", gnutls_strerror(rv));
        return false;
    }
    if (cl->opt->ca) {
        rv = gnutls_certificate_set_x509_trust_file(t->cred, cl->opt->ca, GNUTLS_X509_FMT_PEM);
        if (rv <= 0) {
            ex_warn("--ca %s: %s", cl->opt->ca,
                    rv < 0 ? gnutls_strerror(rv) : "no PEM certificate in it");
            return false;
        }
    }
    gnutls_certificate_set_verify_function(t->cred, verify_server);

    rv = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA);
    if (rv < 0) {
        t->session = NULL;
        ex_warn("GnuTLS session: %s", gnutls_strerror(rv));
        return false;
    }
    const char *where = "priorities";
    rv = gnutls_priority_set_direct(t->session, PRIORITIES, NULL);
    if (rv == 0) {
        where = "ngtcp2's GnuTLS set-up";
        rv = ngtcp2_crypto_gnutls_configure_client_session(t->session) == 0
                 ? 0
                 : GNUTLS_E_INTERNAL_ERROR;
    }
    if (rv == 0) {
        where = "credentials";
        rv = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred);
    }
    if (rv == 0) {
        where = "ALPN";
        gnutls_datum_t alpn = {(unsigned char *)"h3", 2};
        rv = gnutls_alpn_set_protocols(t->session, &alpn, 1, GNUTLS_ALPN_MANDATORY);
    }
    /* SNI names a host, never an address (RFC 6066 section 3). */
    if (rv == 0 && !is_ip_literal(cl->host)) {
        where = "SNI";
        rv = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, cl->host, strlen(cl->host));
    }
    if (rv != 0) {
        ex_warn("GnuTLS %s: %s", where, gnutls_strerror(rv));
        return false;
    }
    gnutls_session_set_ptr(t->session, &cl->quic.conn_ref);
    return true;
}

void tls_describe_failure(client *cl, char *out, size_t cap) {
    tls_session *t = &cl->quic.tls;
    if (t->verify_error[0]) {
        snprintf(out, cap, "certificate verification failed for %s: %s", t->host,
                 t->verify_error);
        return;
    }
    int err = cl->quic.conn ? ngtcp2_conn_get_tls_error(cl->quic.conn) : 0;
    uint8_t alert = cl->quic.conn ? ngtcp2_conn_get_tls_alert(cl->quic.conn) : 0;
    const char *alert_name = alert ? gnutls_alert_get_strname((gnutls_alert_description_t)alert)
                                   : NULL;
    if (err < 0)
        snprintf(out, cap, "TLS handshake failed: %s", gnutls_strerror(err));
    else if (alert)
        snprintf(out, cap, "TLS handshake failed (alert %u: %s)", alert,
                 alert_name ? alert_name : "unknown");
    else
        snprintf(out, cap, "TLS handshake failed");
}

bool tls_alpn_is_h3(tls_session *t) {
    gnutls_datum_t chosen;
    return gnutls_alpn_get_selected_protocol(t->session, &chosen) == 0 && chosen.size == 2 &&
           memcmp(chosen.data, "h3", 2) == 0;
}

void tls_free(tls_session *t) {
    if (t->session) gnutls_deinit(t->session);
    if (t->cred) gnutls_certificate_free_credentials(t->cred);
    t->session = NULL;
    t->cred = NULL;
}
