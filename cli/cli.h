/*
 * The `ais` command-line tool as a library: main() is a thin wrapper so tests can drive it.
 */
#ifndef AIS_CLI_CLI_H
#define AIS_CLI_CLI_H

/*
 * Runs one `ais` invocation (argv[0] is the program name) against the cluster at endpoint
 * (AIS_ENDPOINT, else AIS_URL, else http://127.0.0.1:8080 when NULL or empty). Writes to
 * stdout/stderr and returns the process exit code (docs/cli.md lists them). Calls
 * curl_global_init itself; not thread-safe, call once per process.
 */
int cli_main(int argc, char **argv, const char *endpoint);

#endif
