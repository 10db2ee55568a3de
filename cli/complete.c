/*
 * Bash completion: the script `ais completion bash` prints, and the hidden `ais __complete`
 * helper it calls on every TAB.
 *
 * Design notes: the script stays tiny and static; all knowledge lives here, in C, reading the
 * same command table as dispatch and help, so completion can never drift from the commands.
 * The script passes the line up to the cursor plus COMP_WORDBREAKS; we split it like a shell
 * (quotes, backslashes), find the command, and print one directive line ("nospace", "files")
 * followed by candidates. Readline replaces only the part of the word after the last
 * word-break character (':' in "ais://b"), so candidates are trimmed to that tail here.
 * Bucket and object names come from the cluster with short timeouts (one list page at most);
 * object names are offered one virtual directory level at a time. Errors print nothing.
 */
#include "cli/cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define COMP_WORDS_MAX 64
#define COMP_WORD_BYTES_MAX 2048

struct comp {
    struct cli_ctx *ctx;
    const char *cur; /* word being completed (unquoted) */
    size_t trim;     /* bytes of cur readline keeps */
    bool nospace;
    bool files;
    struct ais_buf cands;
    char last[COMP_WORD_BYTES_MAX]; /* previous candidate, for de-duplication */
};

struct words {
    int n;
    bool cur_empty; /* line ends in a blank: completing a new, empty word */
    char w[COMP_WORDS_MAX][COMP_WORD_BYTES_MAX];
};

/* Shell-like split: blanks separate, quotes group, backslash escapes. */
static void
split_line(const char *s, struct words *ws)
{
    char q = 0;
    size_t len = 0;
    bool in_word = false;
    ws->n = 0;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (q == 0 && (c == ' ' || c == '\t' || c == '\n')) {
            if (in_word && ws->n < COMP_WORDS_MAX) {
                ws->w[ws->n++][len] = '\0';
            }
            in_word = false;
            len = 0;
            continue;
        }
        if (ws->n >= COMP_WORDS_MAX) {
            break;
        }
        in_word = true;
        if (q == 0 && (c == '\'' || c == '"')) {
            q = c;
            continue;
        }
        if (q != 0 && c == q) {
            q = 0;
            continue;
        }
        if (c == '\\' && q != '\'' && s[1] != '\0') {
            c = *++s;
        }
        if (len + 1 < COMP_WORD_BYTES_MAX) {
            ws->w[ws->n][len++] = c;
        }
    }
    ws->cur_empty = !in_word;
    if (in_word && ws->n < COMP_WORDS_MAX) {
        ws->w[ws->n++][len] = '\0';
    } else if (!in_word && ws->n < COMP_WORDS_MAX) {
        ws->w[ws->n++][0] = '\0';
    }
}

static void
cand(struct comp *c, const char *s)
{
    if (strncmp(s, c->cur, strlen(c->cur)) != 0 || strcmp(s, c->last) == 0) {
        return;
    }
    snprintf(c->last, sizeof(c->last), "%s", s);
    size_t l = strlen(s);
    const char *tail = l >= c->trim ? s + c->trim : s;
    if (ais_buf_append(&c->cands, tail, strlen(tail)) < 0 ||
        ais_buf_append(&c->cands, "\n", 1) < 0) {
        return; /* a shorter list is fine */
    }
}

static void
cands_cmds(struct comp *c, const struct cli_cmd *list)
{
    for (; list != NULL && list->name != NULL; list++) {
        if (list->name[0] != '_') {
            cand(c, list->name);
        }
    }
}

static void
cands_flags(struct comp *c, uint64_t mask)
{
    for (int f = 0; f < CLI_F_COUNT; f++) {
        if (mask & CLI_FM(f)) {
            char s[64];
            snprintf(s, sizeof(s), "--%s", cli_flags[f].lng);
            cand(c, s);
        }
    }
}

static void
cands_props(struct comp *c)
{
    static const char *const props[] = {"size",     "checksum", "atime",  "version", "copies",
                                        "location", "custom",   "status", "cached",  "all"};
    const char *comma = strrchr(c->cur, ',');
    size_t head = comma != NULL ? (size_t)(comma - c->cur) + 1 : 0;
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        char s[COMP_WORD_BYTES_MAX];
        snprintf(s, sizeof(s), "%.*s%s", (int)head, c->cur, props[i]);
        cand(c, s);
    }
}

static void
cands_buckets(struct comp *c, bool slash)
{
    char **names = NULL;
    char head[32] = "";
    const char *sep = strstr(c->cur, "://");
    const char *colon = strchr(c->cur, ':');
    if (sep != NULL && sep - c->cur < 16) {
        snprintf(head, sizeof(head), "%.*s", (int)(sep - c->cur) + 3, c->cur);
    } else if (sep == NULL && colon != NULL && colon - c->cur < 16) {
        /* "ais:" or "ais:/": finish the scheme. */
        snprintf(head, sizeof(head), "%.*s://", (int)(colon - c->cur), c->cur);
    }
    if (cli_bucket_names(&c->ctx->conn, &names) < 0) {
        return;
    }
    for (char **n = names; *n != NULL; n++) {
        char s[COMP_WORD_BYTES_MAX];
        snprintf(s, sizeof(s), "%s%s%s", head, *n, slash ? "/" : "");
        cand(c, s);
    }
    c->nospace = c->nospace || slash;
    cli_strv_free(names);
}

struct obj_comp {
    struct comp *c;
    size_t head;       /* bytes of cur up to and including the bucket's '/' */
    size_t prefix_len; /* bytes of the object prefix typed */
};

static int
obj_entry(json_t *e, void *arg)
{
    struct obj_comp *oc = arg;
    const char *name = json_string_value(json_object_get(e, "name"));
    if (name == NULL || strlen(name) < oc->prefix_len) {
        return 0;
    }
    /* One virtual directory level at a time: cut after the next '/'. */
    const char *slash = strchr(name + oc->prefix_len, '/');
    int nl = slash != NULL ? (int)(slash - name) + 1 : (int)strlen(name);
    char s[COMP_WORD_BYTES_MAX];
    snprintf(s, sizeof(s), "%.*s%.*s", (int)oc->head, oc->c->cur, nl, name);
    if (slash != NULL) {
        oc->c->nospace = true;
    }
    cand(oc->c, s);
    return 0;
}

static void
cands_objects(struct comp *c)
{
    struct cli_bck b;
    const char *sep = strstr(c->cur, "://");
    const char *rest = sep != NULL ? sep + 3 : c->cur;
    if (strchr(rest, '/') == NULL) {
        cands_buckets(c, true);
        return;
    }
    if (cli_bck_parse(c->cur, &b, NULL) < 0 || b.obj == NULL) {
        return;
    }
    struct obj_comp oc = {.c = c, .head = (size_t)(b.obj - c->cur), .prefix_len = strlen(b.obj)};
    struct cli_list l = {.prefix = b.obj,
                         .props = "name",
                         .page_size = CLI_COMPLETE_OBJS_MAX,
                         .one_page = true,
                         .fn = obj_entry,
                         .arg = &oc};
    (void)cli_list_objects(&c->ctx->conn, &b, &l);
}

/* Job ids from the cluster (when asked for), then the job kinds. */
static void
cands_jobs(struct comp *c, bool ids)
{
    char **v = NULL;
    if (ids && cli_job_ids(c->ctx, &v) == 0) {
        for (char **p = v; *p != NULL; p++) {
            cand(c, *p);
        }
        cli_strv_free(v);
    }
    for (const char *const *k = cli_job_kinds; *k != NULL; k++) {
        cand(c, *k);
    }
}

/* Download job ids from the cluster. */
static void
cands_dl_jobs(struct comp *c)
{
    char **v = NULL;
    if (cli_dl_ids(c->ctx, &v) == 0) {
        for (char **p = v; *p != NULL; p++) {
            cand(c, *p);
        }
        cli_strv_free(v);
    }
}

/* dSort job ids from the cluster. */
static void
cands_ds_jobs(struct comp *c)
{
    char **v = NULL;
    if (cli_ds_ids(c->ctx, &v) == 0) {
        for (char **p = v; *p != NULL; p++) {
            cand(c, *p);
        }
        cli_strv_free(v);
    }
}

/* Config names: settable ones as "name=" (no space, the value follows), others to show. */
static void
config_cand(void *arg, const char *name, bool settable)
{
    struct comp *c = arg;
    char s[COMP_WORD_BYTES_MAX];
    snprintf(s, sizeof(s), "%s%s", name, settable ? "=" : "");
    if (strncmp(s, c->cur, strlen(c->cur)) == 0 && settable) {
        c->nospace = true;
    }
    cand(c, s);
}

static void
cands_kind(struct comp *c, enum cli_comp kind, const struct words *ws, int first_arg)
{
    switch (kind) {
    case CLI_COMP_BUCKET:
        cands_buckets(c, false);
        break;
    case CLI_COMP_OBJECT:
        cands_objects(c);
        break;
    case CLI_COMP_FILE:
        c->files = true;
        break;
    case CLI_COMP_SHELL:
        cand(c, "bash");
        break;
    case CLI_COMP_CONFIG:
        cli_config_names(config_cand, c);
        break;
    case CLI_COMP_JOB:
    case CLI_COMP_KIND:
        cands_jobs(c, kind == CLI_COMP_JOB);
        break;
    case CLI_COMP_DLJOB:
        cands_dl_jobs(c);
        break;
    case CLI_COMP_DSJOB:
        cands_ds_jobs(c);
        break;
    case CLI_COMP_CMD: {
        const struct cli_cmd *list = cli_root;
        for (int i = first_arg; i < ws->n - 1 && list != NULL; i++) {
            const struct cli_cmd *f = cli_cmd_find(list, ws->w[i]);
            list = f != NULL ? f->subs : NULL;
        }
        cands_cmds(c, list);
        break;
    }
    case CLI_COMP_NONE:
    default:
        break;
    }
}

/* Flag definition for a "--name"/"-x" word allowed by mask, or -1. */
static int
flag_of(const char *w, uint64_t mask)
{
    for (int f = 0; f < CLI_F_COUNT; f++) {
        if (!(mask & CLI_FM(f))) {
            continue;
        }
        if ((w[1] == '-' && strcmp(w + 2, cli_flags[f].lng) == 0) ||
            (w[1] == cli_flags[f].shrt && w[1] != '\0' && w[2] == '\0')) {
            return f;
        }
    }
    return -1;
}

/* Completes the arguments of a runnable command whose words start at index first. */
static void
complete_args(struct comp *c, const struct cli_cmd *cmd, const struct words *ws, int first)
{
    uint64_t mask = cmd->flags | CLI_FM_GLOBAL;
    int npos = 0;
    int value_flag = -1;
    for (int i = first; i < ws->n - 1; i++) {
        const char *w = ws->w[i];
        int f = (w[0] == '-' && w[1] != '\0' && strchr(w, '=') == NULL) ? flag_of(w, mask) : -1;
        value_flag = (f >= 0 && cli_flags[f].has_value) ? f : -1;
        if (w[0] != '-' || w[1] == '\0') {
            npos++;
        }
        if (value_flag >= 0 && i + 1 < ws->n - 1) {
            i++;
            value_flag = -1;
        }
    }
    if (value_flag == CLI_F_PROPS) {
        cands_props(c);
    } else if (value_flag == CLI_F_OBJECT_LIST) {
        c->files = true;
    } else if (value_flag >= 0) {
        return;
    } else if (c->cur[0] == '-') {
        cands_flags(c, mask);
    } else {
        cands_kind(c, (enum cli_comp)cmd->comp[npos < 2 ? npos : 2], ws, first);
    }
}

static void
complete_words(struct comp *c, const struct words *ws)
{
    const struct cli_cmd *list = cli_root;
    const struct cli_cmd *cmd = NULL;
    int i = 1;
    for (; i < ws->n - 1 && list != NULL; i++) {
        const struct cli_cmd *f = cli_cmd_find(list, ws->w[i]);
        if (f == NULL) {
            break;
        }
        cmd = f;
        list = f->subs;
    }
    if (cmd != NULL && cmd->run != NULL) {
        complete_args(c, cmd, ws, i);
    } else if (i == ws->n - 1) {
        if (c->cur[0] == '-') {
            cands_flags(c, CLI_FM_GLOBAL);
        } else {
            cands_cmds(c, cmd != NULL ? cmd->subs : cli_root);
        }
    }
}

int
cli_complete_line(struct cli_ctx *ctx, const char *line, const char *wordbreaks, FILE *out)
{
    struct words *ws = calloc(1, sizeof(*ws));
    struct comp *c = calloc(1, sizeof(*c));
    int err = -ENOMEM;
    if (ws == NULL || c == NULL) {
        goto out;
    }
    split_line(line, ws);
    c->ctx = ctx;
    c->cur = ws->n > 0 ? ws->w[ws->n - 1] : "";
    ais_buf_init(&c->cands, CLI_RESP_BYTES_MAX);
    for (size_t i = strlen(c->cur); i > 0; i--) {
        char ch = c->cur[i - 1];
        if (ch != ' ' && ch != '\t' && ch != '\n' && strchr(wordbreaks, ch) != NULL) {
            c->trim = i;
            break;
        }
    }
    if (ws->n >= 1) {
        complete_words(c, ws);
    }
    fprintf(out, "%s%s%s\n", c->nospace ? "nospace" : "", c->nospace && c->files ? " " : "",
            c->files ? "files" : "");
    if (c->cands.len > 0) {
        fwrite(c->cands.data, 1, c->cands.len, out);
    }
    ais_buf_fini(&c->cands);
    err = 0;
out:
    free(c);
    free(ws);
    return err;
}

int
cli_cmd_complete(struct cli_ctx *ctx, const struct cli_args *a)
{
    ctx->conn.connect_timeout_ms = CLI_COMPLETE_TIMEOUT_MS / 2;
    ctx->conn.ctrl_timeout_ms = CLI_COMPLETE_TIMEOUT_MS;
    (void)cli_complete_line(ctx, a->pos[0], a->npos > 1 ? a->pos[1] : "", ctx->out);
    ctx->conn.errmsg[0] = '\0';
    return 0;
}

static const char completion_script[] =
    "# bash completion for ais, the AIStore command-line tool.\n"
    "# Generated by `ais completion bash`. Enable it for this shell with\n"
    "#     source <(ais completion bash)\n"
    "# or for everyone: ais completion bash > /etc/bash_completion.d/ais\n"
    "_ais_completion()\n"
    "{\n"
    "    local line=\"${COMP_LINE:0:COMP_POINT}\"\n"
    "    local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
    "    local -a out\n"
    "    COMPREPLY=()\n"
    "    mapfile -t out < <(\"${COMP_WORDS[0]}\" __complete -- \"$line\" \"$COMP_WORDBREAKS\" "
    "2>/dev/null)\n"
    "    [[ ${#out[@]} -eq 0 ]] && return 0\n"
    "    local directive=\" ${out[0]} \"\n"
    "    if [[ $directive == *\" files \"* ]]; then\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
    "    else\n"
    "        COMPREPLY=(\"${out[@]:1}\")\n"
    "    fi\n"
    "    if [[ $directive == *\" nospace \"* ]]; then\n"
    "        compopt -o nospace 2>/dev/null\n"
    "    fi\n"
    "    return 0\n"
    "}\n"
    "complete -F _ais_completion ais\n";

void
cli_completion_script(FILE *f)
{
    fputs(completion_script, f);
}

int
cli_cmd_completion(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (strcmp(a->pos[0], "bash") != 0) {
        cli_errorf(ctx, "unsupported shell \"%s\" (only bash)", a->pos[0]);
        return CLI_EUSAGE;
    }
    cli_completion_script(ctx->out);
    return 0;
}
