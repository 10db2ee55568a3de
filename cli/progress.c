/*
 * Progress bars on stderr: bytes, percent, rate, ETA and file counts.
 *
 * Design notes: transfer code only bumps atomic counters (from any worker thread); one
 * drawing thread redraws the line every CLI_PROGRESS_TICK_MS with "\r" and an erase-to-end
 * escape, so the cost per transferred buffer is one atomic add. Whether to draw at all is
 * decided by the caller (cli_progress_wanted: forced, or stderr is a terminal); a NULL bar is
 * a valid disabled bar, so call sites need no conditionals. The line is fitted to the
 * terminal width (80 when unknown). The rendering function is pure for the unit tests.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct cli_progress {
    FILE *f;
    char label[64];
    _Atomic int64_t done;
    _Atomic uint64_t total;
    _Atomic uint32_t files_done;
    uint32_t files_total;
    int64_t start_ns;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static size_t
term_width(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) {
        return ws.ws_col;
    }
    return 80;
}

void
cli_progress_render(char *out, size_t n, const char *label, uint64_t done, uint64_t total,
                    uint32_t files_done, uint32_t files_total, int64_t elapsed_ms, size_t width)
{
    char sdone[32], stotal[32], srate[32], seta[32] = "", files[48] = "";
    double rate = elapsed_ms > 0 ? (double)done * 1000.0 / (double)elapsed_ms : 0.0;
    unsigned pct = total > 0 ? (unsigned)(done >= total ? 100 : done * 100 / total) : 0;
    cli_fmt_size(done, sdone, sizeof(sdone));
    cli_fmt_size(total, stotal, sizeof(stotal));
    cli_fmt_size((uint64_t)rate, srate, sizeof(srate));
    if (done >= total && total > 0) {
        cli_fmt_duration_ms(elapsed_ms, seta, sizeof(seta));
        memmove(seta + 3, seta, strlen(seta) + 1);
        memcpy(seta, "in ", 3);
    } else if (rate > 0 && total > done) {
        char d[24];
        cli_fmt_duration_ms((int64_t)((double)(total - done) * 1000.0 / rate), d, sizeof(d));
        snprintf(seta, sizeof(seta), "ETA %s", d);
    }
    if (files_total > 1) {
        snprintf(files, sizeof(files), "  %u/%u files", files_done, files_total);
    }
    char tail[256];
    int tl = snprintf(tail, sizeof(tail), " %3u%%  %s/%s  %s/s  %s%s", pct, sdone, stotal, srate,
                      seta, files);
    if (tl < 0) {
        tail[0] = '\0';
    }
    /* Bar takes what is left of the width, between 10 and 40 cells. */
    size_t fixed = strlen(label) + 3 + strlen(tail);
    size_t bar = width > fixed + 10 ? width - fixed : 10;
    bar = bar > 40 ? 40 : bar;
    char cells[41];
    size_t fill = total > 0 ? (size_t)((done >= total ? total : done) * bar / total) : 0;
    for (size_t i = 0; i < bar; i++) {
        cells[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    }
    cells[bar] = '\0';
    snprintf(out, n, "%s [%s]%s", label, cells, tail);
}

static void
draw(struct cli_progress *p)
{
    char line[512];
    int64_t ms = (ais_mono_ns() - p->start_ns) / 1000000;
    int64_t d = atomic_load(&p->done);
    cli_progress_render(line, sizeof(line), p->label, d > 0 ? (uint64_t)d : 0,
                        atomic_load(&p->total), atomic_load(&p->files_done), p->files_total, ms,
                        term_width(p->f) - 1);
    fprintf(p->f, "\r%s\033[K", line);
    fflush(p->f);
}

static void *
draw_loop(void *arg)
{
    struct cli_progress *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += CLI_PROGRESS_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (!p->stop) {
            draw(p);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct cli_progress *
cli_progress_start(FILE *f, const char *label, uint64_t total_bytes, uint32_t total_files)
{
    struct cli_progress *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->f = f;
    snprintf(p->label, sizeof(p->label), "%s", label);
    atomic_init(&p->done, 0);
    atomic_init(&p->total, total_bytes);
    atomic_init(&p->files_done, 0);
    p->files_total = total_files;
    p->start_ns = ais_mono_ns();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, draw_loop, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void
cli_progress_add(struct cli_progress *p, int64_t bytes)
{
    if (p != NULL) {
        atomic_fetch_add(&p->done, bytes);
    }
}

void
cli_progress_file_done(struct cli_progress *p)
{
    if (p != NULL) {
        atomic_fetch_add(&p->files_done, 1);
    }
}

void
cli_progress_set_total(struct cli_progress *p, uint64_t total_bytes)
{
    if (p != NULL) {
        atomic_store(&p->total, total_bytes);
    }
}

void
cli_progress_stop(struct cli_progress *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    draw(p);
    fputc('\n', p->f);
    fflush(p->f);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
