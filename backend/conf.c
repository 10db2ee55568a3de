/*
 * Design notes: the one place the backends read the environment (a daemon's main calls
 * bk_conf_load once). The order is the AWS SDKs': environment variables first, then the
 * shared credentials and config files of the selected profile, so a user who can run
 * `aws s3 ls` can point a cluster at the same data without extra configuration.
 */
#include "backend/backend.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
copy_env(char *dst, size_t cap, const char *name)
{
    const char *v = getenv(name);
    if (v != NULL && v[0] != '\0' && dst[0] == '\0') {
        snprintf(dst, cap, "%s", v);
    }
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

/* Value of key in section [want] (or [profile want] in the config file); "" when absent. */
static void
ini_get(const char *path, const char *want, const char *key, char *dst, size_t cap)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[4096], sec[256] = "";
    if (f == NULL || dst[0] != '\0') {
        if (f != NULL) {
            fclose(f);
        }
        return;
    }
    /* Bounded: a credentials file is read line by line, at most 100000 lines. */
    for (int i = 0; i < 100000 && fgets(line, sizeof(line), f) != NULL; i++) {
        char *s = trim(line);
        if (s[0] == '[') {
            char *e = strchr(s, ']');
            if (e != NULL) {
                *e = '\0';
                char *name = trim(s + 1);
                if (strncmp(name, "profile ", 8) == 0) {
                    name = trim(name + 8);
                }
                snprintf(sec, sizeof(sec), "%s", name);
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL || strcmp(sec, want) != 0) {
            continue;
        }
        *eq = '\0';
        if (strcmp(trim(s), key) == 0) {
            snprintf(dst, cap, "%s", trim(eq + 1));
            break;
        }
    }
    fclose(f);
}

static void
aws_files(struct bk_s3_conf *a)
{
    const char *home = getenv("HOME");
    const char *profile = getenv("AWS_PROFILE");
    char cred[1024] = "", conf[1024] = "";
    const char *cf = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *cc = getenv("AWS_CONFIG_FILE");
    if (cf != NULL) {
        snprintf(cred, sizeof(cred), "%s", cf);
    } else if (home != NULL) {
        snprintf(cred, sizeof(cred), "%s/.aws/credentials", home);
    }
    if (cc != NULL) {
        snprintf(conf, sizeof(conf), "%s", cc);
    } else if (home != NULL) {
        snprintf(conf, sizeof(conf), "%s/.aws/config", home);
    }
    profile = (profile != NULL && profile[0] != '\0') ? profile : "default";
    if (a->key[0] == '\0') {
        ini_get(cred, profile, "aws_access_key_id", a->key, sizeof(a->key));
        ini_get(cred, profile, "aws_secret_access_key", a->secret, sizeof(a->secret));
        ini_get(cred, profile, "aws_session_token", a->token, sizeof(a->token));
    }
    ini_get(conf, profile, "region", a->region, sizeof(a->region));
    ini_get(conf, profile, "endpoint_url", a->endpoint, sizeof(a->endpoint));
}

void
bk_conf_load(struct bk_conf *c)
{
    memset(c, 0, sizeof(*c));
    struct bk_s3_conf *a = &c->aws;
    copy_env(a->key, sizeof(a->key), "AWS_ACCESS_KEY_ID");
    copy_env(a->secret, sizeof(a->secret), "AWS_SECRET_ACCESS_KEY");
    copy_env(a->token, sizeof(a->token), "AWS_SESSION_TOKEN");
    if (a->key[0] == '\0' || a->secret[0] == '\0') {
        a->key[0] = a->secret[0] = a->token[0] = '\0';
    }
    copy_env(a->region, sizeof(a->region), "AWS_REGION");
    copy_env(a->region, sizeof(a->region), "AWS_DEFAULT_REGION");
    copy_env(a->endpoint, sizeof(a->endpoint), "AWS_ENDPOINT_URL_S3");
    copy_env(a->endpoint, sizeof(a->endpoint), "AWS_ENDPOINT_URL");
    aws_files(a);
    struct bk_s3_conf *g = &c->gcp;
    copy_env(g->key, sizeof(g->key), "AIS_GCP_HMAC_ACCESS_ID");
    copy_env(g->secret, sizeof(g->secret), "AIS_GCP_HMAC_SECRET");
    copy_env(g->endpoint, sizeof(g->endpoint), "AIS_GCP_ENDPOINT");
    const char *t = getenv("AIS_BACKEND_TIMEOUT_MS");
    if (t != NULL && atoll(t) > 0) {
        c->stall_timeout_ms = atoll(t);
    }
}
