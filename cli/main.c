/*
 * `ais` entry point: picks the endpoint from the environment and hands over to cli_main.
 */
#include "cli/cli.h"

#include <stdlib.h>

int
main(int argc, char **argv)
{
    const char *ep = getenv("AIS_ENDPOINT");
    if (ep == NULL || ep[0] == '\0') {
        ep = getenv("AIS_URL");
    }
    return cli_main(argc, argv, ep);
}
