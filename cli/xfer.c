/*
 * Object data transfers: one PUT from a file, one GET into a file descriptor, and a pool of
 * workers for multi-object PUT/GET.
 *
 * Design notes: bytes stream between the file and libcurl through small callbacks; nothing is
 * held in memory. The upload callbacks support rewinding (seek) because a gateway that reads
 * the body before answering 307 makes libcurl send it again to the target; the progress bar is
 * rewound with it so it never counts bytes twice. Multi-object work is a fixed list claimed
 * by index with one atomic counter; each worker owns its libcurl handle (handles are not
 * thread-safe) and its error text; the first failure is kept for the final error line and
 * the rest are counted, so one bad file does not stop a large upload.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct put_src {
    int fd;
    int64_t sent;
    struct cli_progress *p;
    int err;
};

static size_t
put_read(char *buf, size_t size, size_t n, void *arg)
{
    struct put_src *s = arg;
    for (;;) {
        ssize_t r = read(s->fd, buf, size * n);
        if (r >= 0) {
            s->sent += r;
            cli_progress_add(s->p, r);
            return (size_t)r;
        }
        if (errno != EINTR) {
            s->err = -errno;
            return CURL_READFUNC_ABORT;
        }
    }
}

static int
put_seek(void *arg, curl_off_t off, int origin)
{
    struct put_src *s = arg;
    if (origin != SEEK_SET || lseek(s->fd, (off_t)off, SEEK_SET) < 0) {
        return CURL_SEEKFUNC_FAIL;
    }
    cli_progress_add(s->p, (int64_t)off - s->sent);
    s->sent = (int64_t)off;
    return CURL_SEEKFUNC_OK;
}

int
cli_obj_put_file(struct cli_conn *c, const struct cli_bck *b, const char *obj, const char *path,
                 struct cli_progress *p)
{
    struct ais_buf url;
    struct stat st;
    char query[64];
    struct put_src src = {.fd = -1, .p = p};
    int err = 0;
    ais_buf_init(&url, AIS_URI_BYTES_MAX);
    src.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src.fd < 0 || fstat(src.fd, &st) < 0) {
        err = -errno;
        cli_conn_errorf(c, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (cli_obj_path(b, obj, &url) < 0) {
        err = -ENOMEM;
        goto out;
    }
    cli_bck_query(b, query, sizeof(query));
    struct cli_req rq = {.method = "PUT",
                         .path = url.data,
                         .query = query,
                         .read_fn = put_read,
                         .seek_fn = put_seek,
                         .read_arg = &src,
                         .upload_bytes = st.st_size};
    err = cli_http_do(c, &rq, NULL);
    if (err == -EIO && src.err < 0) {
        cli_conn_errorf(c, "reading %s: %s", path, strerror(-src.err));
        err = src.err;
    }
out:
    if (src.fd >= 0) {
        close(src.fd);
    }
    ais_buf_fini(&url);
    return err;
}

struct get_sink {
    int fd;
    uint64_t written;
    struct cli_progress *p;
    const char *lazy_label; /* start a bar once the size is known (single GET) */
    FILE *bar_f;
    CURL *curl;
    int err;
};

static void
sink_lazy_bar(struct get_sink *s)
{
    curl_off_t len = -1;
    curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    if (len >= (curl_off_t)CLI_PROGRESS_MIN_BYTES) {
        s->p = cli_progress_start(s->bar_f, s->lazy_label, (uint64_t)len, 1);
    }
    s->lazy_label = NULL;
}

static size_t
get_write(char *buf, size_t size, size_t n, void *arg)
{
    struct get_sink *s = arg;
    size_t len = size * n;
    size_t off = 0;
    if (s->lazy_label != NULL) {
        sink_lazy_bar(s);
    }
    while (off < len) {
        ssize_t w = write(s->fd, buf + off, len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            s->err = w < 0 ? -errno : -EIO;
            return 0;
        }
        off += (size_t)w;
    }
    s->written += len;
    cli_progress_add(s->p, (int64_t)len);
    return len;
}

int
cli_obj_get_fd(struct cli_conn *c, const struct cli_get *g, uint64_t *written)
{
    struct ais_buf url, q;
    char query[64];
    struct get_sink sink = {
        .fd = g->fd, .p = g->p, .lazy_label = g->bar_label, .bar_f = g->bar_f, .curl = c->curl};
    int err = -ENOMEM;
    ais_buf_init(&url, AIS_URI_BYTES_MAX);
    ais_buf_init(&q, AIS_URI_BYTES_MAX);
    cli_bck_query(g->b, query, sizeof(query));
    int qerr = ais_buf_append(&q, query, strlen(query));
    if (qerr == 0 && g->archpath != NULL) { /* a member of the shard (target/arch.h) */
        qerr = ais_buf_append(&q, "&archpath=", 10);
        qerr = qerr == 0 ? cli_url_escape(&q, g->archpath, true) : qerr;
    }
    if (qerr == 0 && cli_obj_path(g->b, g->obj, &url) == 0) {
        struct cli_req rq = {.method = "GET",
                             .path = url.data,
                             .query = q.data,
                             .range = g->range,
                             .write_fn = get_write,
                             .write_arg = &sink};
        err = cli_http_do(c, &rq, NULL);
    } else if (qerr != 0) {
        err = qerr;
    }
    if (sink.err < 0) {
        cli_conn_errorf(c, "writing %s: %s", g->dst_name, strerror(-sink.err));
        err = sink.err;
    }
    if (g->bar_label != NULL) {
        cli_progress_stop(sink.p);
    }
    if (err == 0 && written != NULL) {
        *written = sink.written;
    }
    ais_buf_fini(&q);
    ais_buf_fini(&url);
    return err;
}

/* ---- multi-object ---- */

struct pool {
    struct cli_xfer *x;
    _Atomic size_t next;
    _Atomic size_t failed;
    pthread_mutex_t mu;
    int first_err;
    char first_msg[CLI_ERRMSG_BYTES];
};

static int
get_to_path(struct cli_conn *c, const struct cli_xfer *x, const struct cli_xfer_item *it)
{
    char dir[AIS_PATH_BYTES_MAX];
    snprintf(dir, sizeof(dir), "%s", it->dst);
    int err = ais_mkdir_p(dirname(dir));
    if (err < 0) {
        cli_conn_errorf(c, "cannot create directory for %s: %s", it->dst, strerror(-err));
        return err;
    }
    int fd = open(it->dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err = -errno;
        cli_conn_errorf(c, "cannot create %s: %s", it->dst, strerror(errno));
        return err;
    }
    struct cli_get g = {.b = x->b, .obj = it->src, .fd = fd, .p = x->p, .dst_name = it->dst};
    err = cli_obj_get_fd(c, &g, NULL);
    if (close(fd) < 0 && err == 0) {
        err = -errno;
    }
    if (err < 0) {
        unlink(it->dst);
    }
    return err;
}

static void
pool_fail(struct pool *pl, int err, const char *msg)
{
    atomic_fetch_add(&pl->failed, 1);
    pthread_mutex_lock(&pl->mu);
    if (pl->first_err == 0) {
        pl->first_err = err;
        snprintf(pl->first_msg, sizeof(pl->first_msg), "%s", msg);
    }
    pthread_mutex_unlock(&pl->mu);
}

static void *
pool_worker(void *arg)
{
    struct pool *pl = arg;
    struct cli_xfer *x = pl->x;
    struct cli_conn c;
    if (cli_conn_init(&c, x->endpoint) < 0) {
        pool_fail(pl, -ENOMEM, "out of memory");
        return NULL;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&pl->next, 1);
        if (i >= x->n) {
            break;
        }
        const struct cli_xfer_item *it = &x->items[i];
        int err =
            x->put ? cli_obj_put_file(&c, x->b, it->dst, it->src, x->p) : get_to_path(&c, x, it);
        if (err < 0) {
            pool_fail(pl, err, c.errmsg[0] != '\0' ? c.errmsg : strerror(-err));
        }
        cli_progress_file_done(x->p);
    }
    cli_conn_fini(&c);
    return NULL;
}

int
cli_xfer_run(struct cli_xfer *x, char *errmsg, size_t errlen, size_t *failed)
{
    pthread_t th[CLI_WORKERS_MAX];
    struct pool pl = {.x = x};
    size_t nw = x->workers < 1 ? 1 : (x->workers > CLI_WORKERS_MAX ? CLI_WORKERS_MAX : x->workers);
    size_t started = 0;
    atomic_init(&pl.next, 0);
    atomic_init(&pl.failed, 0);
    pthread_mutex_init(&pl.mu, NULL);
    if (nw > x->n) {
        nw = x->n;
    }
    for (; started < nw; started++) {
        if (pthread_create(&th[started], NULL, pool_worker, &pl) != 0) {
            break;
        }
    }
    if (started == 0 && x->n > 0) {
        pool_worker(&pl);
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_mutex_destroy(&pl.mu);
    *failed = atomic_load(&pl.failed);
    if (pl.first_err != 0) {
        snprintf(errmsg, errlen, "%s", pl.first_msg);
    }
    return pl.first_err;
}

void
cli_xfer_items_free(struct cli_xfer_item *items, size_t n)
{
    if (items == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(items[i].src);
        free(items[i].dst);
    }
    free(items);
}
