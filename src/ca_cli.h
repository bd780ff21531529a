/*
 * ca_cli — the `ddbgate ca` and `ddbgate passwd` subcommands.
 */
#ifndef DDBGATE_CA_CLI_H
#define DDBGATE_CA_CLI_H

/* `ddbgate ca init [-c FILE] [--dir DIR]`; argv[0] is "ca". */
int ca_cli_main(int argc, char **argv);

/* `ddbgate passwd USER`; argv[0] is "passwd". */
int passwd_cli_main(int argc, char **argv);

#endif
