/*
 * aisloader: load generator for the AIS object datapath and for plain HTTP baselines.
 * Design notes: main only sequences the phases (create bucket, fill, timed run, cleanup) and
 * chooses where output goes; the engine is run.c, the numbers are stats.c and report.c.
 * With --json stdout carries exactly one JSON document and everything else goes to stderr.
 */
#include "bench/args.h"
#include "bench/report.h"
#include "bench/run.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_SETUP = 1, EXIT_USAGE = 2, EXIT_ERRORS = 3 };

static struct al_run *volatile g_run;

static void
on_signal(int sig)
{
    (void)sig;
    if (g_run != NULL) {
        al_run_stop(g_run);
    }
}

static void
signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Where text goes: stdout normally, stderr with --json (stdout holds the JSON document). */
static FILE *
text_out(const struct al_args *a)
{
    return a->json ? stderr : stdout;
}

/*
 * Runs one phase, prints its table in text mode and adds it to the JSON document under key.
 * Adds the phase's error count to *errors. 0 or negative errno.
 */
static int
phase_run(struct al_run *r, const struct al_args *a, enum al_phase ph, const char *key, json_t *doc,
          uint64_t *errors)
{
    struct al_stats st;
    int64_t ns = 0;
    FILE *progress = (a->quiet || a->stats_interval_ms == 0) ? NULL : text_out(a);
    int err = al_stats_init(&st);
    if (err != 0) {
        return err;
    }
    err = al_run_phase(r, ph, progress, &st, &ns);
    if (!a->quiet || !a->json) {
        al_report_text(text_out(a), key, &st, ns);
    }
    *errors += al_report_errors(&st);
    if (doc != NULL && json_object_set_new(doc, key, al_report_json_phase(&st, ns)) != 0) {
        err = err ? err : -ENOMEM;
    }
    al_stats_fini(&st);
    return err;
}

static int
phases_run(struct al_run *r, const struct al_args *a, json_t *doc, uint64_t *errors)
{
    int err = 0;
    if (a->mode != AL_MODE_BASELINE && a->create_bucket) {
        err = al_run_create_bucket(r);
    }
    if (err == 0 && a->fill) {
        err = phase_run(r, a, AL_PHASE_FILL, "fill", doc, errors);
    }
    if (err == 0) {
        err = phase_run(r, a, AL_PHASE_MAIN, "run", doc, errors);
    }
    if (err == 0 && a->cleanup) {
        err = phase_run(r, a, AL_PHASE_CLEANUP, "cleanup", doc, errors);
    }
    if (err == 0 && doc != NULL) {
        json_object_set_new(doc, "errors_total", json_integer((json_int_t)*errors));
        json_object_set_new(doc, "interrupted", json_boolean(al_run_stopped(r)));
    }
    return err;
}

static void
banner(const struct al_args *a)
{
    fprintf(text_out(a),
            "aisloader: mode=%s endpoint=%s bucket=%s workers=%u pctput=%u size=%llu..%llu "
            "objects=%llu duration=%lldms max_ops=%llu\n",
            al_mode_name(a->mode), a->endpoint, a->bucket, a->workers, a->pct_put,
            (unsigned long long)a->size_min, (unsigned long long)a->size_max,
            (unsigned long long)a->num_objects, (long long)a->duration_ms,
            (unsigned long long)a->max_ops);
}

int
main(int argc, char **argv)
{
    struct al_args a;
    char why[256];
    if (al_args_parse(argc, argv, &a, why, sizeof(why)) != 0) {
        fprintf(stderr, "aisloader: %s (see --help)\n", why);
        return EXIT_USAGE;
    }
    if (a.help) {
        al_args_usage(argv[0]);
        return 0;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "aisloader: curl_global_init failed\n");
        return EXIT_SETUP;
    }
    int rc = EXIT_SETUP;
    uint64_t errors = 0;
    json_t *doc = a.json ? json_pack("{s:o}", "config", al_report_json_config(&a)) : NULL;
    struct al_run *r = NULL;
    int err = (a.json && doc == NULL) ? -ENOMEM : al_run_new(&a, &r);
    if (err == 0) {
        g_run = r;
        signals_install();
        banner(&a);
        err = phases_run(r, &a, doc, &errors);
    }
    if (err != 0) {
        if (err != -EIO) { /* -EIO was explained where it happened */
            fprintf(stderr, "aisloader: %s\n", strerror(-err));
        }
    } else {
        rc = errors > 0 ? EXIT_ERRORS : 0;
    }
    if (doc != NULL && err == 0) {
        json_dumpf(doc, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    g_run = NULL;
    al_run_free(r);
    json_decref(doc);
    curl_global_cleanup();
    return rc;
}
