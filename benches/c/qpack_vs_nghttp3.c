/*
 * qpack_vs_nghttp3: h3q's QPACK against libnghttp3's, in one process, over the QPACK
 * interop corpus' header lists (the qifs/ *.qif files).
 *
 *   qpack_vs_nghttp3 [--qifs DIR] [--iterations N] [--runs R] [--setting T,B,A]
 *                    [--per-file] [--verbose] [--smoke]
 *
 * DIR is the corpus root (holding qifs/), default $H3Q_QIFS_DIR. For every setting
 * (dynamic table capacity T in 0, 256, 4096; blocked streams B in 0, 100; acknowledgements
 * A on or off) and both libraries: every file is encoded once with a decoder of the same
 * library in step, and each decoded list is checked against the input (the reference);
 * then, N times per run, every file is encoded by a fresh encoder (output checked against
 * the reference byte for byte) and the reference decoded by a fresh decoder (field count
 * and length checked), the two libraries alternating. Printed per setting: the speed ratio
 * nghttp3 time / h3q time (above 1: h3q faster) for encode and decode, median of the R
 * runs' ratios of median pass times, with the range over the runs; the compressed bytes
 * (sections + encoder stream) of each, their ratio h3q / nghttp3, and the worst file's ratio.
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so that time the scheduler
 * gives to other processes on a busy machine is not counted.
 *
 * --per-file: also the sizes per file; --verbose: also each run's median pass times.
 * --smoke: one setting (4096, 100, on), one pass each, correctness only.
 * Exit status: 0 done, 1 a check failed, 2 usage, 77 skipped (no corpus).
 */
#define _POSIX_C_SOURCE 200809L

#include "qpack_bench.h"

#include <nghttp3/nghttp3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIBS 2
static const bench_codec *const CODECS[LIBS] = {&codec_h3q, &codec_nghttp3};

/* The thread's CPU time: on a shared machine, time spent descheduled is not counted. */
static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
    const char *qifs;
    int iterations, runs, per_file, smoke, verbose;
    int only; /* restrict to `setting` */
    bench_setting setting;
} options;

static int parse_options(int argc, char **argv, options *o) {
    o->qifs = getenv("H3Q_QIFS_DIR");
    o->iterations = 15;
    o->runs = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--smoke") == 0) {
            o->smoke = 1;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = 1;
        } else if (strcmp(a, "--per-file") == 0) {
            o->per_file = 1;
        } else if (strcmp(a, "--qifs") == 0 && next) {
            o->qifs = next;
            i++;
        } else if (strcmp(a, "--iterations") == 0 && next && atoi(next) > 0) {
            o->iterations = atoi(next);
            i++;
        } else if (strcmp(a, "--runs") == 0 && next && atoi(next) > 0) {
            o->runs = atoi(next);
            i++;
        } else if (strcmp(a, "--setting") == 0 && next) {
            unsigned long long t, b;
            int ack;
            if (sscanf(next, "%llu,%llu,%d", &t, &b, &ack) != 3) return -1;
            o->only = 1;
            o->setting = (bench_setting){t, b, ack != 0};
            i++;
        } else {
            return -1;
        }
    }
    if (o->smoke) {
        o->iterations = 1;
        o->runs = 1;
        if (!o->only) o->setting = (bench_setting){4096, 100, 1};
        o->only = 1;
    }
    return 0;
}

/* Everything measured at one setting. */
typedef struct {
    bench_setting s;
    recording *ref[LIBS];      /* per file */
    uint64_t *bytes[LIBS];     /* per file: sections + encoder stream */
    uint64_t total[LIBS];
    double *enc_ratio, *dec_ratio; /* per run: nghttp3 time / h3q time */
} setting_result;

static int check_tally(const char *lib, const qif_file *f, const decode_tally *t) {
    if (t->fields == f->field_count && t->bytes == f->field_bytes) return 0;
    fprintf(stderr, "qpack_vs_nghttp3: %s decode of %s: %llu fields / %llu bytes, expected %zu / %llu\n",
            lib, f->name, (unsigned long long)t->fields, (unsigned long long)t->bytes,
            f->field_count, (unsigned long long)f->field_bytes);
    return -1;
}

/* One timed encode pass of library `l` over every file; returns nanoseconds or -1. */
static double encode_pass(int l, const qif_file *files, size_t nfiles, void **prepared,
                          setting_result *r, recording *scratch) {
    double total = 0;
    for (size_t f = 0; f < nfiles; f++) {
        double t0 = now_ns();
        int rc = CODECS[l]->encode(&files[f], prepared[l * nfiles + f], r->s, &r->ref[l][f],
                                   scratch);
        total += now_ns() - t0;
        if (rc != 0) return -1;
        if (!recording_same_output(scratch, &r->ref[l][f])) {
            fprintf(stderr, "qpack_vs_nghttp3: %s encoding of %s differs from its reference\n",
                    CODECS[l]->name, files[f].name);
            return -1;
        }
    }
    return total;
}

static double decode_pass(int l, const qif_file *files, size_t nfiles, setting_result *r) {
    double total = 0;
    for (size_t f = 0; f < nfiles; f++) {
        decode_tally tally = {0, 0};
        double t0 = now_ns();
        int rc = CODECS[l]->decode(&r->ref[l][f], r->s, &tally);
        total += now_ns() - t0;
        if (rc != 0 || check_tally(CODECS[l]->name, &files[f], &tally) != 0) return -1;
    }
    return total;
}

/* Runs the timed passes of one run at one setting; stores the run's ratios. */
static int time_setting(const options *o, const qif_file *files, size_t nfiles, void **prepared,
                        setting_result *r, int run, recording *scratch, double *run_ns) {
    int n = o->iterations;
    double *enc[LIBS], *dec[LIBS];
    int status = 0;
    for (int l = 0; l < LIBS; l++) {
        enc[l] = calloc((size_t)n, sizeof(double));
        dec[l] = calloc((size_t)n, sizeof(double));
        if (!enc[l] || !dec[l]) {
            fputs("qpack_vs_nghttp3: out of memory\n", stderr);
            exit(1);
        }
    }
    for (int i = 0; i < n && status == 0; i++) {
        for (int k = 0; k < LIBS && status == 0; k++) {
            int l = (i + k) % LIBS; /* alternate which library goes first */
            enc[l][i] = encode_pass(l, files, nfiles, prepared, r, scratch);
            dec[l][i] = decode_pass(l, files, nfiles, r);
            if (enc[l][i] < 0 || dec[l][i] < 0) status = -1;
        }
    }
    if (status == 0) {
        double me[LIBS], md[LIBS];
        for (int l = 0; l < LIBS; l++) {
            me[l] = median(enc[l], (size_t)n);
            md[l] = median(dec[l], (size_t)n);
            run_ns[2 * l] += me[l];
            run_ns[2 * l + 1] += md[l];
        }
        if (o->verbose)
            printf("run %d %5llu/%llu/%s: encode h3q %.0f us, nghttp3 %.0f us; decode h3q %.0f us, "
                   "nghttp3 %.0f us\n",
                   run, (unsigned long long)r->s.table, (unsigned long long)r->s.blocked,
                   r->s.ack ? "on" : "off", me[0] / 1e3, me[1] / 1e3, md[0] / 1e3, md[1] / 1e3);
        r->enc_ratio[run] = me[1] / me[0];
        r->dec_ratio[run] = md[1] / md[0];
    }
    for (int l = 0; l < LIBS; l++) {
        free(enc[l]);
        free(dec[l]);
    }
    return status;
}

static void print_ratio(double *v, int runs) {
    double lo = v[0], hi = v[0];
    for (int i = 1; i < runs; i++) {
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    double *copy = malloc((size_t)runs * sizeof *copy);
    if (!copy) exit(1);
    memcpy(copy, v, (size_t)runs * sizeof *copy);
    printf(" %5.2f (%4.2f-%4.2f)", median(copy, (size_t)runs), lo, hi);
    free(copy);
}

static void print_table(const options *o, const qif_file *files, size_t nfiles,
                        setting_result *results, size_t nsettings, double (*totals)[2 * LIBS]) {
    printf("\n%5s %7s %3s  %-19s %-19s %9s %9s %6s  %s\n", "table", "blocked", "ack",
           "encode speed x", "decode speed x", "h3q B", "nghttp3 B", "size", "worst file");
    for (size_t i = 0; i < nsettings; i++) {
        setting_result *r = &results[i];
        printf("%5llu %7llu %3s ", (unsigned long long)r->s.table,
               (unsigned long long)r->s.blocked, r->s.ack ? "on" : "off");
        print_ratio(r->enc_ratio, o->runs);
        print_ratio(r->dec_ratio, o->runs);
        size_t worst = 0;
        double worst_ratio = 0;
        for (size_t f = 0; f < nfiles; f++) {
            double q = (double)r->bytes[0][f] / (double)r->bytes[1][f];
            if (q > worst_ratio) {
                worst_ratio = q;
                worst = f;
            }
        }
        printf(" %9llu %9llu %6.3f  %.3f %s\n", (unsigned long long)r->total[0],
               (unsigned long long)r->total[1], (double)r->total[0] / (double)r->total[1],
               worst_ratio, files[worst].name);
    }
    double enc[64], dec[64];
    for (int run = 0; run < o->runs && run < 64; run++) {
        enc[run] = totals[run][2] / totals[run][0];
        dec[run] = totals[run][3] / totals[run][1];
    }
    printf("%-17s", "all settings");
    print_ratio(enc, o->runs < 64 ? o->runs : 64);
    print_ratio(dec, o->runs < 64 ? o->runs : 64);
    printf("\n");
    if (o->per_file) {
        printf("\n%5s %7s %3s  %-14s %9s %9s %6s\n", "table", "blocked", "ack", "file", "h3q B",
               "nghttp3 B", "size");
        for (size_t i = 0; i < nsettings; i++)
            for (size_t f = 0; f < nfiles; f++)
                printf("%5llu %7llu %3s  %-14s %9llu %9llu %6.3f\n",
                       (unsigned long long)results[i].s.table,
                       (unsigned long long)results[i].s.blocked, results[i].s.ack ? "on" : "off",
                       files[f].name, (unsigned long long)results[i].bytes[0][f],
                       (unsigned long long)results[i].bytes[1][f],
                       (double)results[i].bytes[0][f] / (double)results[i].bytes[1][f]);
    }
}

int main(int argc, char **argv) {
    options o;
    memset(&o, 0, sizeof o);
    if (parse_options(argc, argv, &o) != 0) {
        fputs("usage: qpack_vs_nghttp3 [--qifs DIR] [--iterations N] [--runs R] "
              "[--setting TABLE,BLOCKED,ACK] [--per-file] [--verbose] [--smoke]\n",
              stderr);
        return 2;
    }
    if (!o.qifs || !*o.qifs) {
        puts("SKIPPED: no QPACK corpus (give --qifs DIR or set H3Q_QIFS_DIR)");
        return 77;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/qifs", o.qifs);
    qif_file *files;
    size_t nfiles = qif_load_dir(dir, &files);
    if (nfiles == 0) {
        printf("SKIPPED: no QPACK corpus at %s\n", dir);
        return 77;
    }
    size_t lists = 0, fields = 0;
    for (size_t f = 0; f < nfiles; f++) {
        lists += files[f].list_count;
        fields += files[f].field_count;
    }
    const nghttp3_info *ng = nghttp3_version(0);
    printf("QPACK: h3q (C API) vs libnghttp3 %s; %s: %zu files, %zu lists, %zu fields; "
           "%d passes x %d runs\n",
           ng ? ng->version_str : "?", dir, nfiles, lists, fields, o.iterations, o.runs);

    static const uint64_t tables[] = {0, 256, 4096}, blocked[] = {0, 100};
    setting_result results[12];
    size_t nsettings = 0;
    for (size_t t = 0; t < 3; t++)
        for (size_t b = 0; b < 2; b++)
            for (int a = 0; a < 2; a++) {
                bench_setting s = {tables[t], blocked[b], a};
                if (o.only && (s.table != o.setting.table || s.blocked != o.setting.blocked ||
                               s.ack != o.setting.ack))
                    continue;
                memset(&results[nsettings], 0, sizeof results[nsettings]);
                results[nsettings++].s = s;
            }
    if (nsettings == 0) {
        fputs("qpack_vs_nghttp3: --setting must be one of TABLE 0, 256, 4096; BLOCKED 0, 100; "
              "ACK 0, 1\n", stderr);
        return 2;
    }

    int status = 0;
    void **prepared = calloc(LIBS * nfiles, sizeof *prepared);
    double(*totals)[2 * LIBS] = calloc((size_t)o.runs, sizeof *totals);
    recording scratch;
    memset(&scratch, 0, sizeof scratch);
    if (!prepared || !totals) return 1;
    for (int l = 0; l < LIBS && status == 0; l++)
        for (size_t f = 0; f < nfiles; f++)
            if (!(prepared[l * nfiles + f] = CODECS[l]->prepare(&files[f]))) status = 1;

    /* References: encode with a decoder in step, every decoded list checked. */
    for (size_t i = 0; i < nsettings && status == 0; i++) {
        setting_result *r = &results[i];
        r->enc_ratio = calloc((size_t)o.runs, sizeof(double));
        r->dec_ratio = calloc((size_t)o.runs, sizeof(double));
        for (int l = 0; l < LIBS && status == 0; l++) {
            r->ref[l] = calloc(nfiles, sizeof(recording));
            r->bytes[l] = calloc(nfiles, sizeof(uint64_t));
            for (size_t f = 0; f < nfiles && status == 0; f++) {
                if (CODECS[l]->reference(&files[f], prepared[l * nfiles + f], r->s,
                                         &r->ref[l][f]) != 0) {
                    fprintf(stderr, "qpack_vs_nghttp3: %s reference of %s at %llu/%llu/%s failed\n",
                            CODECS[l]->name, files[f].name, (unsigned long long)r->s.table,
                            (unsigned long long)r->s.blocked, r->s.ack ? "on" : "off");
                    status = 1;
                }
                r->bytes[l][f] = r->ref[l][f].es.len + r->ref[l][f].sec.len;
                r->total[l] += r->bytes[l][f];
            }
        }
    }
    /* QPACK_BENCH_DUMP=FILE: per section, each library's encoder-stream and section bytes
     * (for studying where one compresses better). */
    const char *dump = getenv("QPACK_BENCH_DUMP");
    for (size_t i = 0; dump && i < nsettings && status == 0; i++)
        for (size_t f = 0; f < nfiles; f++)
            if (strcmp(files[f].name, dump) == 0)
                for (size_t k = 0; k < results[i].ref[0][f].steps; k++) {
                    size_t e0, s0, e1, s1;
                    const recording *a = &results[i].ref[0][f], *b = &results[i].ref[1][f];
                    recording_slice(&a->es, a->es_end, k, &e0);
                    const uint8_t *p0 = recording_slice(&a->sec, a->sec_end, k, &s0);
                    recording_slice(&b->es, b->es_end, k, &e1);
                    const uint8_t *p1 = recording_slice(&b->sec, b->sec_end, k, &s1);
                    printf("dump %zu %zu h3q %zu %zu ric %u nghttp3 %zu %zu ric %u\n", i, k, e0,
                           s0, s0 ? p0[0] : 0, e1, s1, s1 ? p1[0] : 0);
                }
    for (int run = 0; run < o.runs && status == 0; run++)
        for (size_t i = 0; i < nsettings && status == 0; i++)
            if (time_setting(&o, files, nfiles, prepared, &results[i], run, &scratch,
                             totals[run]) != 0)
                status = 1;

    if (status == 0) {
        if (o.smoke)
            printf("OK: both libraries encoded and decoded every list of the corpus at "
                   "%llu/%llu/%s (h3q %llu bytes, nghttp3 %llu)\n",
                   (unsigned long long)results[0].s.table,
                   (unsigned long long)results[0].s.blocked, results[0].s.ack ? "on" : "off",
                   (unsigned long long)results[0].total[0],
                   (unsigned long long)results[0].total[1]);
        else
            print_table(&o, files, nfiles, results, nsettings, totals);
    }

    for (size_t i = 0; i < nsettings; i++) {
        for (int l = 0; l < LIBS; l++) {
            for (size_t f = 0; results[i].ref[l] && f < nfiles; f++)
                recording_free(&results[i].ref[l][f]);
            free(results[i].ref[l]);
            free(results[i].bytes[l]);
        }
        free(results[i].enc_ratio);
        free(results[i].dec_ratio);
    }
    for (int l = 0; l < LIBS; l++)
        for (size_t f = 0; f < nfiles; f++)
            if (prepared[l * nfiles + f]) CODECS[l]->release(prepared[l * nfiles + f]);
    free(prepared);
    free(totals);
    recording_free(&scratch);
    qif_free(files, nfiles);
    return status;
}
