/* placeholder: apply/dump being written */
#include "cli/cli.h"
int cmd_apply(struct cli *c, int argc, char **argv)
{
    return cli_fail(c, EXIT_RUNTIME, "not built yet");
}
int cmd_dump(struct cli *c, int argc, char **argv)
{
    return cli_fail(c, EXIT_RUNTIME, "not built yet");
}
