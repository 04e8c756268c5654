/* placeholder: demo being written */
#include "cli/cli.h"
int cmd_demo(struct cli *c, int argc, char **argv)
{
    return cli_fail(c, EXIT_RUNTIME, "not built yet");
}
