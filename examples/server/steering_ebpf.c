/*
 * h3q-server's kernel-side steering: an eBPF program of type BPF_PROG_TYPE_SK_REUSEPORT,
 * attached to the workers' SO_REUSEPORT group with SO_ATTACH_REUSEPORT_EBPF, that the
 * kernel runs for every datagram arriving at the server's address to choose the socket
 * (the worker) that gets it.
 *
 * What it does, per datagram (its payload starts 8 bytes in: the UDP header):
 *   1. reads the first byte and the destination CID's first octet; a long-header packet
 *      (Initial, 0-RTT, Handshake: the connection is starting, on the worker the client's
 *      address hashes to) or a CID of config rotation 7 (unroutable) is left to the
 *      kernel's hash, and so is a CID too short to hold a server id (QUIC-LB's plaintext
 *      layout: the octet's low 5 bits are the CID length - 1);
 *   2. reads the server id (proc->id_len bytes after that octet) and looks it up in a hash
 *      map (`ids`: server id -> worker number) that lists the workers' ids;
 *   3. selects that worker's socket in a BPF_MAP_TYPE_REUSEPORT_SOCKARRAY (`sockets`:
 *      worker number -> its socket) with bpf_sk_select_reuseport, and adds one to a counter
 *      (`steered`, read by steering_ebpf_steered()).
 * It always returns SK_PASS: when it selected nothing (step 1, an id of no worker, a
 * socket gone), the kernel picks by its hash as it would without a program. So the
 * program can send a datagram to the wrong socket only when the packet lies about its
 * CID, and handoff.c catches those.
 *
 * There is no compiler for BPF on the machines this is built on (no clang), and the
 * program is small: it is written here as BPF instructions with the macros below and
 * loaded with the bpf() system call. The kernel's verifier checks it at load time; when
 * it refuses, its log is printed with -v.
 *
 * What it needs: Linux 4.19 or later (SK_REUSEPORT programs; 5.x or later tested), and
 * the right to load BPF programs: CAP_BPF (5.8+) or CAP_SYS_ADMIN, e.g. root; unprivileged
 * users cannot (kernel.unprivileged_bpf_disabled, and this program type needs the
 * capability anyway). Without them steering_ebpf_attach() says why in one line and the
 * server goes on with the handoff alone.
 */
#define _GNU_SOURCE
#include "server.h"

#include "ex_log.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF 52
#endif

#ifndef BPF_ATOMIC
#define BPF_ATOMIC 0xc0 /* BPF_XADD in older headers */
#endif

#define UDP_HEADER 8
#define MAX_INSNS 64
#define LOG_SIZE (64 * 1024)

/* The maps and the counter, from the attach to the detach. */
static int ids_map = -1, sockets_map = -1, steered_map = -1;

/* ---- instructions ------------------------------------------------------------------- */

#define INSN(CODE, DST, SRC, OFF, IMM)                                                      \
    ((struct bpf_insn){.code = (CODE), .dst_reg = (DST), .src_reg = (SRC), .off = (OFF),      \
                       .imm = (IMM)})
/* dst = src; dst = imm; dst op= imm (64 bits) */
#define MOV_REG(DST, SRC) INSN(BPF_ALU64 | BPF_MOV | BPF_X, DST, SRC, 0, 0)
#define MOV_IMM(DST, IMM) INSN(BPF_ALU64 | BPF_MOV | BPF_K, DST, 0, 0, IMM)
#define ALU_IMM(OP, DST, IMM) INSN(BPF_ALU64 | (OP) | BPF_K, DST, 0, 0, IMM)
/* dst = *(size *)(src + off); *(size *)(dst + off) = src */
#define LOAD(SIZE, DST, SRC, OFF) INSN(BPF_LDX | (SIZE) | BPF_MEM, DST, SRC, OFF, 0)
#define STORE(SIZE, DST, OFF, SRC) INSN(BPF_STX | (SIZE) | BPF_MEM, DST, SRC, OFF, 0)
#define STORE_IMM(SIZE, DST, OFF, IMM) INSN(BPF_ST | (SIZE) | BPF_MEM, DST, 0, OFF, IMM)
/* lock *(u64 *)(dst + off) += src */
#define ATOMIC_ADD64(DST, OFF, SRC) INSN(BPF_STX | BPF_DW | BPF_ATOMIC, DST, SRC, OFF, BPF_ADD)
/* if (dst op imm) goto pc + 1 + off */
#define JUMP_IMM(OP, DST, IMM, OFF) INSN(BPF_JMP | (OP) | BPF_K, DST, 0, OFF, IMM)
#define CALL(HELPER) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, HELPER)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* dst = the map of file descriptor fd (two instructions) */
#define LOAD_MAP(DST, FD)                                                                   \
    INSN(BPF_LD | BPF_DW | BPF_IMM, DST, BPF_PSEUDO_MAP_FD, 0, FD), INSN(0, 0, 0, 0, 0)

/* Registers: R0 results, R1-R5 helper arguments, R6 the context (kept across calls),
 * R10 the frame pointer (the stack grows down from it). */
enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

/* Stack slots (offsets from R10). */
#define SLOT_HEADER (-8)  /* 2 bytes: the first byte and the CID's first octet */
#define SLOT_ID (-24)     /* 16 bytes: the server id (the `ids` key) */
#define SLOT_WORKER (-32) /* 4 bytes: the worker number (the `sockets` key) */
#define SLOT_ZERO (-40)   /* 4 bytes: 0 (the `steered` key) */

/* Fills `prog` (room for MAX_INSNS instructions); returns the count. `id_len` is 1 to 15. */
static size_t build_program(struct bpf_insn *prog, int id_len) {
    /* The label every "leave it to the kernel" jump goes to is the last two instructions;
     * jumps are relative, so they are patched once the length is known. */
    enum { TO_PASS = 0x7fff };
    struct bpf_insn code[] = {
        MOV_REG(R6, R1),
        /* The first byte and the DCID's first octet. */
        MOV_IMM(R2, UDP_HEADER), MOV_REG(R3, R10), ALU_IMM(BPF_ADD, R3, SLOT_HEADER),
        MOV_IMM(R4, 2), CALL(BPF_FUNC_skb_load_bytes),
        JUMP_IMM(BPF_JNE, R0, 0, TO_PASS),
        LOAD(BPF_B, R1, R10, SLOT_HEADER), ALU_IMM(BPF_AND, R1, 0x80),
        JUMP_IMM(BPF_JNE, R1, 0, TO_PASS), /* long header */
        LOAD(BPF_B, R1, R10, SLOT_HEADER + 1), MOV_REG(R2, R1), ALU_IMM(BPF_RSH, R2, 5),
        JUMP_IMM(BPF_JEQ, R2, 7, TO_PASS), /* config rotation 7: unroutable */
        ALU_IMM(BPF_AND, R1, 0x1f),
        JUMP_IMM(BPF_JLT, R1, id_len, TO_PASS), /* CID length - 1 < id length */
        /* The server id, after the octet. */
        MOV_REG(R1, R6), MOV_IMM(R2, UDP_HEADER + 2), MOV_REG(R3, R10),
        ALU_IMM(BPF_ADD, R3, SLOT_ID), MOV_IMM(R4, id_len), CALL(BPF_FUNC_skb_load_bytes),
        JUMP_IMM(BPF_JNE, R0, 0, TO_PASS),
        /* Its worker. */
        LOAD_MAP(R1, ids_map), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, SLOT_ID),
        CALL(BPF_FUNC_map_lookup_elem),
        JUMP_IMM(BPF_JEQ, R0, 0, TO_PASS),
        LOAD(BPF_W, R1, R0, 0), STORE(BPF_W, R10, SLOT_WORKER, R1),
        /* Its socket. */
        MOV_REG(R1, R6), LOAD_MAP(R2, sockets_map), MOV_REG(R3, R10),
        ALU_IMM(BPF_ADD, R3, SLOT_WORKER), MOV_IMM(R4, 0), CALL(BPF_FUNC_sk_select_reuseport),
        JUMP_IMM(BPF_JNE, R0, 0, TO_PASS),
        /* Counted. */
        STORE_IMM(BPF_W, R10, SLOT_ZERO, 0), LOAD_MAP(R1, steered_map), MOV_REG(R2, R10),
        ALU_IMM(BPF_ADD, R2, SLOT_ZERO), CALL(BPF_FUNC_map_lookup_elem),
        JUMP_IMM(BPF_JEQ, R0, 0, TO_PASS),
        MOV_IMM(R1, 1), ATOMIC_ADD64(R0, 0, R1),
        /* pass: */
        MOV_IMM(R0, SK_PASS), EXIT(),
    };
    size_t n = sizeof code / sizeof code[0];
    _Static_assert(sizeof code / sizeof code[0] <= MAX_INSNS, "room for the program");
    for (size_t i = 0; i < n; i++) {
        if (BPF_CLASS(code[i].code) == BPF_JMP && BPF_OP(code[i].code) != BPF_CALL &&
            BPF_OP(code[i].code) != BPF_EXIT && code[i].off == TO_PASS)
            code[i].off = (int16_t)(n - 2 - (i + 1));
        prog[i] = code[i];
    }
    return n;
}

/* ---- the bpf() system call ---------------------------------------------------------------- */

static long sys_bpf(int cmd, union bpf_attr *attr) {
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int map_create(enum bpf_map_type type, unsigned key_size, unsigned value_size,
                      unsigned entries) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = type;
    attr.key_size = key_size;
    attr.value_size = value_size;
    attr.max_entries = entries;
    return (int)sys_bpf(BPF_MAP_CREATE, &attr);
}

static bool map_update(int map, const void *key, const void *value) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)map;
    attr.key = (uint64_t)(uintptr_t)key;
    attr.value = (uint64_t)(uintptr_t)value;
    attr.flags = BPF_ANY;
    return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) == 0;
}

static bool map_lookup(int map, const void *key, void *value) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (uint32_t)map;
    attr.key = (uint64_t)(uintptr_t)key;
    attr.value = (uint64_t)(uintptr_t)value;
    return sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr) == 0;
}

/* Loads the program; -1 (errno set) if refused, with the verifier's log in `log` when
 * `log` is not NULL. */
static int prog_load(const struct bpf_insn *prog, size_t n, char *log, size_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
    attr.expected_attach_type = BPF_SK_REUSEPORT_SELECT;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t) "Dual MIT/GPL";
    if (log) {
        log[0] = '\0';
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
        attr.log_level = 1;
    }
    return (int)sys_bpf(BPF_PROG_LOAD, &attr);
}

/* ---- attaching ------------------------------------------------------------------------ */

static void close_maps(void) {
    int *maps[] = {&ids_map, &sockets_map, &steered_map};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        if (*maps[i] >= 0) close(*maps[i]);
        *maps[i] = -1;
    }
}

/* The maps, filled: every worker's id and socket. False (errno set, `what` said) if the
 * kernel refuses one. */
static bool make_maps(const process *proc, const char **what) {
    unsigned n = proc->nworkers;
    *what = "creating the maps";
    ids_map = map_create(BPF_MAP_TYPE_HASH, (unsigned)proc->id_len, sizeof(uint32_t), n);
    sockets_map = map_create(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, sizeof(uint32_t),
                             sizeof(uint64_t), n);
    steered_map = map_create(BPF_MAP_TYPE_ARRAY, sizeof(uint32_t), sizeof(uint64_t), 1);
    if (ids_map < 0 || sockets_map < 0 || steered_map < 0) return false;
    *what = "filling the maps";
    for (uint32_t i = 0; i < n; i++) {
        uint8_t id[16];
        memcpy(id, proc->id_prefix, proc->id_prefix_len);
        id[proc->id_prefix_len] = (uint8_t)i;
        uint64_t fd = (uint64_t)proc->workers[i].udp.fd;
        if (!map_update(ids_map, id, &i) || !map_update(sockets_map, &i, &fd)) return false;
    }
    return true;
}

bool steering_ebpf_attach(process *proc) {
    const char *what;
    struct bpf_insn prog[MAX_INSNS];
    if (!make_maps(proc, &what)) {
        ex_warn("eBPF steering off (%s: %s): handing datagrams over between workers instead",
                what, strerror(errno));
        close_maps();
        return false;
    }
    size_t n = build_program(prog, (int)proc->id_len);
    int fd = prog_load(prog, n, NULL, 0);
    if (fd < 0) {
        int err = errno;
        char *log = ex_verbose ? malloc(LOG_SIZE) : NULL;
        if (log && prog_load(prog, n, log, LOG_SIZE) < 0 && log[0])
            ex_debug("the verifier's log:\n%s", log);
        free(log);
        ex_warn("eBPF steering off (loading the program: %s): handing datagrams over "
                "between workers instead",
                strerror(err));
        close_maps();
        return false;
    }
    int rc = setsockopt(proc->workers[0].udp.fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd,
                        sizeof fd);
    int err = errno;
    close(fd); /* the socket group holds the program now (and the program its maps) */
    if (rc != 0) {
        ex_warn("eBPF steering off (SO_ATTACH_REUSEPORT_EBPF: %s): handing datagrams over "
                "between workers instead",
                strerror(err));
        close_maps();
        return false;
    }
    ex_debug("eBPF steering on: %u workers, %zu-byte server ids, %zu instructions",
             proc->nworkers, proc->id_len, n);
    return true;
}

uint64_t steering_ebpf_steered(const process *proc) {
    uint32_t zero = 0;
    uint64_t count = 0;
    if (!proc->ebpf || steered_map < 0 || !map_lookup(steered_map, &zero, &count)) return 0;
    return count;
}

void steering_ebpf_detach(process *proc) {
    close_maps();
    proc->ebpf = false;
}
