/*
 * Goal: the StatsD pusher is off without statsd.addr, refuses a malformed address, pushes
 * counter deltas and timers as AIS names them over UDP, and drops (never blocks, never
 * queues) when nobody listens.
 * Method: a UDP socket of the test as the server (recv with a timeout); counters bumped
 * directly; then the server socket closed so the pusher's sends fail (ECONNREFUSED) and are
 * counted as dropped. Waits poll with a deadline.
 */
// clang-format off
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
// clang-format on

#include "common/config.h"
#include "common/err.h"
#include "common/statsd.h"
#include "common/util.h"

static int
udp_server(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
test_off_and_bad_addr(void **state)
{
    (void)state;
    static struct ais_config cfg;
    static struct ais_stats s;
    char why[256];
    assert_int_equal(ais_config_load(&cfg, NULL, why, sizeof(why)), 0);
    ais_stats_init(&s);
    struct ais_statsd *d = (struct ais_statsd *)&s; /* must be overwritten */
    assert_int_equal(ais_statsd_start(&cfg, &s, "t1", 1, &d), 0);
    assert_null(d);
    snprintf(cfg.statsd_addr, sizeof(cfg.statsd_addr), "nocolon");
    assert_int_equal(ais_statsd_start(&cfg, &s, "t1", 1, &d), -EINVAL);
    snprintf(cfg.statsd_addr, sizeof(cfg.statsd_addr), "127.0.0.1:");
    assert_int_equal(ais_statsd_start(&cfg, &s, "t1", 1, &d), -EINVAL);
    ais_statsd_stop(NULL);
    /* the config refuses a malformed address at load time; it is read-only at run time */
    json_t *j = json_pack("{s:{s:s}}", "statsd", "addr", "x");
    assert_int_equal(ais_config_load_json(&cfg, j, why, sizeof(why)), AIS_ECONFIG);
    assert_non_null(strstr(why, "statsd.addr"));
    json_decref(j);
    j = json_pack("{s:{s:s, s:s}}", "statsd", "addr", "10.0.0.1:8125", "interval", "50ms");
    assert_int_equal(ais_config_load_json(&cfg, j, why, sizeof(why)), AIS_ECONFIG); /* < 100ms */
    json_decref(j);
    assert_int_equal(ais_config_check("statsd.addr", "127.0.0.1:1"), -EPERM);
}

static void
test_push_then_drop(void **state)
{
    (void)state;
    static struct ais_config cfg;
    static struct ais_stats s;
    char why[256], buf[2048];
    uint16_t port;
    assert_int_equal(ais_config_load(&cfg, NULL, why, sizeof(why)), 0);
    int srv = udp_server(&port);
    snprintf(cfg.statsd_addr, sizeof(cfg.statsd_addr), "127.0.0.1:%u", (unsigned)port);
    cfg.statsd_interval_ms = 100;
    ais_stats_init(&s);
    struct ais_statsd *d = NULL;
    assert_int_equal(ais_statsd_start(&cfg, &s, "t1", 1, &d), 0);
    assert_non_null(d);
    ais_stats_add(&s, AIS_STAT_GET_N, 3);
    ais_stats_observe(&s, AIS_LAT_GET, 2000000);
    ais_stats_observe(&s, AIS_LAT_GET, 4000000);
    int got = 0;
    int64_t deadline = ais_mono_ns() + 5000000000LL;
    while (!got && ais_mono_ns() < deadline) {
        ssize_t n = recv(srv, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            got = strstr(buf, "aistarget.t1.get.n:3|c") != NULL;
            if (got) {
                assert_non_null(strstr(buf, "aistarget.t1.get.ns:3.000|ms"));
            }
        }
    }
    assert_true(got);
    close(srv); /* nobody listens now: sends fail and are dropped */
    deadline = ais_mono_ns() + 5000000000LL;
    while (ais_statsd_dropped(d) == 0 && ais_mono_ns() < deadline) {
        ais_stats_add(&s, AIS_STAT_PUT_N, 1);
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    assert_true(ais_statsd_dropped(d) > 0);
    int64_t t0 = ais_mono_ns();
    ais_statsd_stop(d);
    assert_true(ais_mono_ns() - t0 < 2000000000LL); /* stop never waits on the network */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_and_bad_addr),
        cmocka_unit_test(test_push_then_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
