/*
 * h3q-client --resume: session resumption and 0-RTT, shown end to end.
 *
 * The URL list is fetched twice. The first round runs on an ordinary connection; when its
 * last request is over, the client takes the session ticket the server sent on it
 * (h3q_quic_conn_session_ticket), lets that connection close, and opens a second one with
 * h3q_endpoint_connect_resume. Its requests start at once, before the handshake
 * completes: they travel as 0-RTT when the server's ticket allows early data. If the
 * server refuses the early data, h3q reports the requests as rejected and connections.c
 * sends them again on the same connection once the handshake is done. With -v, the log
 * says what became of the 0-RTT data ("0-RTT sent and accepted" / "... rejected").
 *
 * A ticket resumes within this process only (h3q keeps the TLS session itself; see
 * h3q_endpoint_connect_resume), which is why the two rounds share one run.
 */
#define _GNU_SOURCE
#include "client.h"

#include "ex_log.h"

void resume_when_due(client *cl) {
    if (!cl->opt->resume || cl->resumed || cl->closing || cl->finished < cl->first_round)
        return;
    cl->resumed = true;
    uint8_t ticket[H3Q_MAX_SESSION_TICKET];
    size_t len = 0;
    bool have = false;
    for (connection *c = cl->conns; c && !have; c = c->next)
        have = h3q_quic_conn_session_ticket(c->quic, ticket, sizeof ticket, &len) == H3Q_OK;
    if (!have) ex_warn("--resume: the server sent no session ticket: a full handshake");
    /* The first round's connections close once empty (as after a GOAWAY). */
    for (connection *c = cl->conns; c; c = c->next) c->going_away = true;
    if (!open_connection(cl, have ? ticket : NULL, len))
        fail_waiting(cl, "cannot open the resumed connection");
}
